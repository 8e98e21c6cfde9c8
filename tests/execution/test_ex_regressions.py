"""Failures seen in hftbacktest 2.4.4 on tardis data, each of which must be right here.

* a partial fill that exactly uses up an order aborted its replay (issues #301/#312);
* partial maker fills never reached position or fees (#316: 634.60 filled vs 630.62 held);
* a book_snapshot_25 file was silently ignored by its tardis converter;
* it has no funding (covered in test_ex_costs.py: charged at each funding timestamp).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from ex_kit import BASE, SEC, cmd, l2, market, snapshot, trades

from tardis_assets.lib.execution import OrderCommand, frame_market, run_orders
from tardis_assets.lib.market.tardis import read_file

BOOK = snapshot(0, bids=[(99.9, 5.0), (99.8, 3.0)], asks=[(100.0, 1.0), (100.1, 2.0)])


def test_partial_fill_that_exactly_uses_up_an_order_completes_the_replay() -> None:
    # resting buy 1 behind 5: a 6 lot sell at its price reaches exactly its whole size; a taker
    # for exactly the visible 1 + 2 fills exactly; the replay goes on and a later order fills
    tape = trades([(2 * SEC, 50, "sell", 99.9, 6.0)])
    cmds = [
        cmd(SEC, side="buy", type="limit", tif="gtc", price=99.9, qty=1.0),
        cmd(3 * SEC, side="buy", qty=3.0),
        cmd(4 * SEC, side="sell", qty=0.5),
    ]
    res = run_orders(market(incremental_book_L2=l2(BOOK), trades=tape), cmds, BASE)
    status = [res.orders.row(int(i), named=True)["status"] for i in res.run.command_orders]
    assert status == ["filled", "filled", "filled"]
    maker = res.fills.filter(pl.col("liquidity") == "maker")
    assert maker.get_column("qty").to_list() == [1.0]
    assert res.orders.row(int(res.run.command_orders[1]), named=True)["filled_qty"] == 3.0
    assert res.fills.row(-1, named=True)["position_after"] == pytest.approx(3.5)


def test_partial_maker_fills_reach_position_and_fees() -> None:
    # buy 3 behind 1: sells of 1.5, 1.2, 0.9, 0.8 fill 0.5, 1.2, 0.9, 0.4
    tape = trades(
        [(t * SEC, 50, "sell", 99.9, q) for t, q in ((2, 1.5), (3, 1.2), (4, 0.9), (5, 0.8))]
    )
    book = l2(snapshot(0, bids=[(99.9, 1.0)], asks=[(100.0, 5.0)]))
    cfg = dataclasses.replace(BASE, maker_fee_bps=2.0, equity_seconds=1)
    res = run_orders(
        market(incremental_book_L2=book, trades=tape),
        [cmd(SEC, side="buy", type="limit", tif="gtc", price=99.9, qty=3.0)],
        cfg,
    )
    fills = res.fills
    assert fills.get_column("qty").to_list() == pytest.approx([0.5, 1.2, 0.9, 0.4])
    filled = float(fills.get_column("qty").sum())
    assert filled == pytest.approx(3.0)
    assert res.equity.row(-1, named=True)["position"] == pytest.approx(filled)
    assert fills.row(-1, named=True)["position_after"] == pytest.approx(filled)
    assert res.pnl["fees"] == pytest.approx(2e-4 * 99.9 * filled)
    assert res.orders.row(0, named=True)["fee"] == pytest.approx(2e-4 * 99.9 * filled)
    # the strategy's own view agrees once the responses are in
    assert res.run.final_known_cash == pytest.approx(res.run.final_cash)


def test_book_snapshot_25_file_is_the_book(tardis_fixtures: Path) -> None:
    snap = read_file(
        tardis_fixtures / "binance-futures_book_snapshot_25_2020-09-01_BTCUSDT.csv",
        "book_snapshot_25",
    )
    start = int(snap.get_column("local_timestamp").min())
    data = frame_market(
        "binance-futures", "BTCUSDT", start, start + 60 * SEC, {"book_snapshot_25": snap}
    )
    first = snap.row(0, named=True)
    qty = first["asks[0].amount"] + 1.0  # more than the best level: walks into asks[1]
    res = run_orders(data, [OrderCommand(at_us=start + 1, side="buy", qty=qty)], BASE)
    assert res.stats["depth_source"] == "book_snapshot_25"
    assert res.fills.get_column("price").to_list() == [
        first["asks[0].price"],
        first["asks[1].price"],
    ]
    assert res.fills.get_column("qty").to_list() == pytest.approx([first["asks[0].amount"], 1.0])
    # every snapshot replaces the book: 25 levels a side, no stale level left behind
    last = snap.row(-1, named=True)
    sell = run_orders(
        data,
        [
            OrderCommand(
                at_us=int(snap.get_column("local_timestamp").max()) + 1, side="sell", qty=1e6
            )
        ],
        dataclasses.replace(BASE, consume_liquidity=True),
    )
    bids = [last[f"bids[{i}].price"] for i in range(25)]
    assert sell.fills.get_column("price").to_list() == bids
    assert np.all(np.diff(bids) < 0)
