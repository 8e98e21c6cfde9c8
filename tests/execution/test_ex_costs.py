"""Fees from the TOML table and funding at its timestamps, with hand-computed answers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest
from ex_kit import BASE, SEC, cmd, market, quotes, ticker, us

from tardis_assets.lib.execution import (
    ExecutionConfig,
    OrderCommand,
    frame_market,
    funding_schedule,
    load_fees,
    run_orders,
)
from tardis_assets.lib.market.tardis import polars_schema, read_file

BOOK = quotes([(0, 100, 99.9, 50.0, 100.1, 50.0)])  # mid 100.0
TICKER = ticker(
    [
        (5 * SEC, 10 * SEC, 0.0008, 100.2),
        (9 * SEC, 10 * SEC, 0.001, 100.5),  # in force at 10 s, mark 100.5
        (11 * SEC, 20 * SEC, -0.002, 101.2),
        (19 * SEC, 20 * SEC, -0.002, 101.0),  # in force at 20 s, mark 101.0
        (21 * SEC, 70 * SEC, 0.003, 101.0),  # settles after the replay: not charged
    ]
)


@pytest.mark.parametrize(("side", "sign"), [("buy", 1.0), ("sell", -1.0)])
def test_funding_is_charged_at_its_timestamps_for_long_and_short(side: str, sign: float) -> None:
    res = run_orders(
        market(quotes=BOOK, derivative_ticker=TICKER),
        [cmd(SEC, side=side, qty=2.0)],
        dataclasses.replace(BASE, equity_seconds=5),
    )
    f = res.funding
    assert us(f.get_column("time")) == [10 * SEC, 20 * SEC]
    assert f.get_column("rate").to_list() == [0.001, -0.002]
    assert f.get_column("mark_price").to_list() == [100.5, 101.0]
    assert f.get_column("position").to_list() == [2.0 * sign, 2.0 * sign]
    # rate * position * mark: a long pays a positive rate and receives a negative one
    pay = [0.001 * 2.0 * sign * 100.5, -0.002 * 2.0 * sign * 101.0]
    assert f.get_column("payment").to_list() == pytest.approx(pay)
    assert res.pnl["funding"] == pytest.approx(sum(pay))
    eq = res.equity
    paid = dict(zip(us(eq.get_column("time")), eq.get_column("funding_paid"), strict=True))
    assert paid[5 * SEC] == 0.0
    assert paid[10 * SEC] == pytest.approx(pay[0])
    assert paid[60 * SEC] == pytest.approx(sum(pay))
    # cash carries it: capital - notional - funding (no fees in BASE)
    price = 100.1 if side == "buy" else 99.9
    cash = BASE.capital - sign * 2.0 * price - sum(pay)
    assert eq.row(-1, named=True)["cash"] == pytest.approx(cash)


def test_flat_position_pays_no_funding() -> None:
    res = run_orders(market(quotes=BOOK, derivative_ticker=TICKER), [], BASE)
    assert res.funding.get_column("payment").to_list() == [0.0, 0.0]


def test_funding_rate_published_after_its_timestamp_is_used(tardis_fixtures: Path) -> None:
    # real bitmex rows: funding_timestamp 00:00:00 and 00:01:00, each announced 3 s later
    tick = read_file(
        tardis_fixtures / "bitmex_derivative_ticker_2020-03-01_XBTUSD.csv", "derivative_ticker"
    )
    start = int(tick.get_column("funding_timestamp").min())
    sched = funding_schedule(tick, start, start + 86_400 * SEC)
    assert sched.time.tolist() == [start, start + 60 * SEC]
    assert sched.rate.tolist() == [0.0001, 0.00015]
    # mark: the last one known at the funding time, else the first one after it
    assert sched.mark.tolist() == [9500.25, 9500.25]


def test_funding_from_a_real_ticker_file_is_charged(tardis_fixtures: Path) -> None:
    tick = read_file(
        tardis_fixtures / "bitmex_derivative_ticker_2020-03-01_XBTUSD.csv", "derivative_ticker"
    )
    start = int(tick.get_column("funding_timestamp").min())
    book = pl.DataFrame(
        [("bitmex", "XBTUSD", start + SEC, start + SEC + 100, 1e5, 9500.5, 9500.0, 1e5)],
        schema=polars_schema("quotes"),
        orient="row",
    )
    data = frame_market(
        "bitmex", "XBTUSD", start, start + 120 * SEC, {"quotes": book, "derivative_ticker": tick}
    )
    buy = OrderCommand(at_us=start + 2 * SEC, side="buy", qty=1000.0)
    res = run_orders(data, [buy], ExecutionConfig())
    # 00:00:00 settles while flat; 00:01:00 charges rate 0.00015 on 1000 at mark 9500.25
    assert res.funding.get_column("payment").to_list() == pytest.approx(
        [0.0, 0.00015 * 1000.0 * 9500.25]
    )
    # the bitmex row of the fee table applies: a maker rebate and a 7.5 bps taker fee
    assert res.stats["taker_fee_bps"] == pytest.approx(7.5)
    assert res.stats["maker_fee_bps"] == pytest.approx(-2.5)
    assert res.fills.row(0, named=True)["fee"] == pytest.approx(7.5e-4 * 9500.5 * 1000.0)


def test_fee_table_lookup_falls_back_from_pair_to_exchange_to_default(tmp_path: Path) -> None:
    path = tmp_path / "fees.toml"
    path.write_text(
        "[[fee]]\nexchange = '*'\nsymbol = '*'\nmaker_bps = 1\ntaker_bps = 4\n"
        "[[fee]]\nexchange = 'x'\nsymbol = '*'\nmaker_bps = -1\ntaker_bps = 3\n"
        "[[fee]]\nexchange = 'x'\nsymbol = 'Y'\nmaker_bps = 0\ntaker_bps = 2\n"
    )
    table = load_fees(path)
    assert table.lookup("x", "Y").taker == pytest.approx(2e-4)
    assert table.lookup("x", "Z").maker == pytest.approx(-1e-4)
    assert table.lookup("other", "Q").taker == pytest.approx(4e-4)
    # the packaged table loads and has a default row
    assert load_fees().lookup("nowhere", "NOTHING").taker > 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[fee]]\nexchange='x'\nsymbol='*'\nmaker_bps=1\n", "lacks"),
        ("[[fee]]\nexchange='x'\nsymbol='*'\nmaker_bps=1\ntaker_bps=-2\n", "taker fee"),
        ("[[fee]]\nexchange='x'\nsymbol='*'\nmaker_bps='a'\ntaker_bps=2\n", "number"),
        ("nonsense = [", "not valid TOML"),
        (
            "[[fee]]\nexchange='x'\nsymbol='*'\nmaker_bps=1\ntaker_bps=2\n" * 2,
            "duplicate",
        ),
    ],
)
def test_bad_fee_tables_are_refused_by_name(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "fees.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_fees(path)


def test_fee_table_without_a_matching_row_names_the_pair(tmp_path: Path) -> None:
    path = tmp_path / "fees.toml"
    path.write_text("[[fee]]\nexchange='x'\nsymbol='*'\nmaker_bps=1\ntaker_bps=2\n")
    with pytest.raises(ValueError, match="'other'"):
        load_fees(path).lookup("other", "Y")


def test_maker_rebate_and_taker_fee_are_charged_on_the_fill_notional() -> None:
    res = run_orders(
        market(quotes=BOOK),
        [
            cmd(SEC, side="buy", qty=1.0),  # taker at 100.1
            cmd(SEC, side="sell", type="limit", tif="gtc", price=100.1, qty=1.0),
        ],
        dataclasses.replace(BASE, maker_fee_bps=-2.5, taker_fee_bps=7.5),
    )
    taker = res.fills.filter(res.fills.get_column("liquidity") == "taker").row(0, named=True)
    assert taker["fee"] == pytest.approx(7.5e-4 * 100.1)
    assert res.pnl["fees"] == pytest.approx(float(res.fills.get_column("fee").sum()))
