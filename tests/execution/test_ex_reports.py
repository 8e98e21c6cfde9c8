"""Reports, the latency study and the bar-vs-tick comparison on a small real replay."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest
from ex_kit import BASE, MS, SEC, T0, market, quotes, signals, ticker

from tardis_assets.lib.backtest import LLMStrategyParams, run_llm_strategy
from tardis_assets.lib.backtest.metrics import METRIC_NAMES
from tardis_assets.lib.execution import (
    TABLE_SCHEMAS,
    execution_report,
    gap_metadata,
    latency_table,
    params_from_rows,
    run_execution,
)
from tardis_assets.lib.execution.bar_vs_tick import bar_vs_tick
from tardis_assets.lib.execution.latency_study import latency_study

MIN = 60 * SEC
DAY = 30 * MIN
PARAMS = LLMStrategyParams(
    w_sentiment=1.0, w_pattern=0.0, entry_threshold=0.5, exit_threshold=0.1, allow_short=True
)
CFG = dataclasses.replace(BASE, lot_size=0.001, taker_fee_bps=5.0, maker_fee_bps=-1.0)


def _news_market():
    """The price jumps 1% within seconds after each signal's window end: news that moves it."""
    mids = np.full(DAY // SEC, 100.0)
    for minute, move in ((3, 1.0), (10, -1.0), (20, 1.0)):
        start = minute * 60 + 2
        mids[start:] += move * np.minimum(np.arange(mids.size - start) / 20.0, 1.0)
    rows = [(s * SEC, 500, m - 0.05, 1e6, m + 0.05, 1e6) for s, m in enumerate(mids)]
    tick = ticker([(MIN, 5 * MIN, 1e-4, 100.0), (6 * MIN, 15 * MIN, -2e-4, 100.0)])
    sig = signals(
        [
            (2 * MIN, "sentiment", 0.9, 0.9, 3 * MIN + 800 * MS),
            (9 * MIN, "sentiment", -0.9, 0.9, 10 * MIN + 800 * MS),
            (19 * MIN, "sentiment", 0.9, 0.9, 20 * MIN + 800 * MS),
        ]
    )
    return market(DAY, quotes=quotes(rows), derivative_ticker=tick), sig


def test_execution_report_tables_follow_their_schemas() -> None:
    data, sig = _news_market()
    res = run_execution(data, sig, PARAMS, CFG)
    report = execution_report(res, run_id="r1", params=PARAMS)
    for name, frame in report.tables.items():
        assert dict(frame.schema) == TABLE_SCHEMAS[name], name
        if name != "execution_summary" and frame.height:
            assert frame.get_column("run_id").unique().to_list() == ["r1"]
    assert report.png.startswith(b"\x89PNG") and len(report.png) < 80_000
    meta = report.metadata
    for name in METRIC_NAMES:
        assert name in meta
    parts = ("pnl_alpha", "pnl_spread_impact", "pnl_fees", "pnl_funding")
    assert meta["pnl_pnl"] == pytest.approx(
        meta[parts[0]] - meta[parts[1]] - meta[parts[2]] - meta[parts[3]]
    )
    assert meta["pnl_funding"] != 0.0  # a position was open at a funding time
    assert meta["n_fills"] == res.fills.height > 0
    daily = report.tables["execution_daily"]
    assert daily.height == 1
    assert daily.row(0, named=True)["pnl"] == pytest.approx(res.pnl["pnl"])
    assert daily.row(0, named=True)["fees"] == pytest.approx(res.pnl["fees"])


def test_latency_study_shows_the_cost_of_slow_models() -> None:
    data, sig = _news_market()
    report = latency_study(
        data,
        sig,
        PARAMS,
        CFG,
        run_id="lat",
        model_latencies_ms=[None, 47.0, 2_300.0, 10_000.0],
        order_latencies_ms=[1.0, 100.0],
    )
    table = report.tables["latency_study"]
    assert table.height == 8
    assert table.filter(pl.col("model_latency") == "measured").get_column(
        "model_latency_ms"
    ).to_list() == [800.0, 800.0]
    one = table.filter(pl.col("order_latency_ms") == 1.0).sort("model_latency_ms")
    pnl = one.get_column("pnl").to_list()
    # the news moves price within seconds: every extra second of model latency costs money
    assert pnl == sorted(pnl, reverse=True)
    assert pnl[0] > pnl[-1]
    shortfall = one.get_column("implementation_shortfall_bps").to_list()
    assert shortfall[-1] > shortfall[0]
    assert report.metadata["pnl_cost_of_latency"] > 0
    assert report.png.startswith(b"\x89PNG")


def test_latency_table_needs_latencies() -> None:
    data, sig = _news_market()
    with pytest.raises(ValueError, match="at least one"):
        latency_table(data, sig, PARAMS, CFG, model_latencies_ms=[])


def _bars(data) -> pl.DataFrame:
    """1-minute bars of the quotes' mids (what the bars asset would give the bar engine)."""
    q = data.parts["quotes"][0]
    mid = q.select(
        ((pl.col("timestamp") - T0) // MIN * MIN + T0).alias("bar_start"),
        ((pl.col("bid_price") + pl.col("ask_price")) / 2).alias("mid"),
    )
    bars = mid.group_by("bar_start", maintain_order=True).agg(
        pl.col("mid").first().alias("open"),
        pl.col("mid").max().alias("high"),
        pl.col("mid").min().alias("low"),
        pl.col("mid").last().alias("close"),
    )
    return bars.with_columns(pl.col("bar_start").cast(pl.Datetime("us", "UTC")))


def test_bar_vs_tick_reports_the_gap_of_the_bar_approximation() -> None:
    data, sig = _news_market()
    bars = _bars(data)
    top = pl.DataFrame({"entry_threshold": [0.5, 0.8], "holding_bars": [0, 3], "sharpe": [1, 0]})
    plist = params_from_rows(top, PARAMS)
    assert [p.holding_bars for p in plist] == [0, 3]
    gaps = bar_vs_tick(bars, sig, plist, data, CFG)
    assert gaps.height == 2
    bar = run_llm_strategy(bars, sig, plist[0]).metrics["total_return"]
    tick = run_execution(data, sig, plist[0], CFG).metrics["total_return"]
    row = gaps.row(0, named=True)
    assert row["bar_total_return"] == pytest.approx(bar)
    assert row["tick_total_return"] == pytest.approx(tick)
    assert row["gap_total_return"] == pytest.approx(tick - bar)
    # the bar engine waits for the next bar open; the tick engine trades at available_at,
    # before most of the move: here the tick engine earns more than the bar engine
    assert row["gap_total_return"] > 0
    meta = gap_metadata(gaps)
    assert meta["bar_vs_tick_n"] == 2 and "| rank |" in meta["bar_vs_tick_markdown"]


def test_params_from_rows_needs_a_parameter_column() -> None:
    with pytest.raises(ValueError, match="no LLMStrategyParams field"):
        params_from_rows(pl.DataFrame({"sharpe": [1.0]}), PARAMS)
