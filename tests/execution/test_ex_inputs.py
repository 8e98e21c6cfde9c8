"""Bad inputs are refused with a ValueError that names what is wrong."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from ex_kit import BASE, SEC, T0, cmd, l2, market, snapshot, trades

from tardis_assets.lib.execution import ExecutionConfig, frame_market, lake_market, run_orders
from tardis_assets.lib.execution.ticks import PriceGrid, infer_decimals, infer_grid

BOOK = l2(snapshot(0, bids=[(99.9, 5.0)], asks=[(100.0, 1.0)]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"style": "aggressive"}, "style"),
        ({"queue_model": "fifo"}, "queue_model"),
        ({"entry_latency_ms": -1.0}, "entry_latency_ms"),
        ({"response_latency_ms": float("nan")}, "response_latency_ms"),
        ({"model_latency_ms": -5.0}, "model_latency_ms"),
        ({"capital": 0.0}, "capital"),
        ({"bar_seconds": 0}, "bar_seconds"),
        ({"depth": "L3"}, "depth"),
        ({"passive_timeout_s": -1.0}, "passive_timeout_s"),
        ({"max_walk_levels": -1}, "max_walk_levels"),
        ({"tick_size": 0.0}, "tick_size"),
        ({"consume_liquidity": "yes"}, "consume_liquidity"),
        ({"check_interval_ms": 0.0}, "check_interval_ms"),
    ],
)
def test_bad_config_is_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ExecutionConfig(**kwargs)


@pytest.mark.parametrize(
    ("order", "message"),
    [
        ({"side": "long", "qty": 1.0}, "side"),
        ({"qty": 0.0}, "qty"),
        ({"type": "stop", "qty": 1.0}, "type"),
        ({"type": "limit", "qty": 1.0}, "price"),
        ({"tif": "post_only", "qty": 1.0}, "post-only"),
        ({"tif": "fok", "qty": 1.0}, "tif"),
        ({"action": "cancel", "cancels": 5}, "cancels"),
        ({"action": "modify"}, "action"),
    ],
)
def test_bad_orders_are_refused(order: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_orders(market(incremental_book_L2=BOOK), [cmd(SEC, **order)], BASE)


def test_market_data_needs_a_book_and_sane_bounds(tmp_path: Path) -> None:
    tape = trades([(SEC, 100, "buy", 100.0, 1.0)])
    with pytest.raises(ValueError, match="no book data"):
        run_orders(market(trades=tape), [], BASE)
    with pytest.raises(ValueError, match="end_us"):
        frame_market("x", "Y", T0, T0, {"trades": tape})
    with pytest.raises(ValueError, match="unsupported data type"):
        frame_market("x", "Y", T0, T0 + SEC, {"options_chain": tape})
    with pytest.raises(ValueError, match="lacks column"):
        frame_market("x", "Y", T0, T0 + SEC, {"trades": tape.drop("price")})
    with pytest.raises(ValueError, match="no lake file"):
        lake_market(tmp_path, "x", "Y", date(2024, 3, 1))
    with pytest.raises(ValueError, match="consecutive"):
        lake_market(tmp_path, "x", "Y", [date(2024, 3, 1), date(2024, 3, 3)])
    with pytest.raises(ValueError, match="requested but no"):
        run_orders(market(incremental_book_L2=BOOK), [], ExecutionConfig(depth="book_snapshot_25"))


def test_unknown_side_text_is_refused() -> None:
    bad = BOOK.with_columns(pl.lit("buy").alias("side"))
    with pytest.raises(ValueError, match="unknown value 'buy'"):
        run_orders(market(incremental_book_L2=bad), [], BASE)


def test_price_grid_is_inferred_from_the_decimals_in_use() -> None:
    assert infer_decimals(np.array([60000.1, 60000.2, 59999.9])) == 1
    assert infer_decimals(np.array([0.00012345, 0.0001234])) == 8
    assert infer_grid(np.array([100.5, 101.0])).tick == pytest.approx(0.1)
    grid = PriceGrid.of(0.1)
    assert grid.price(grid.index(60000.1)) == 60000.1  # the decimal price, no 0.1 noise
    assert PriceGrid.of(5.0).price(PriceGrid.of(5.0).index(105.0)) == 105.0
    with pytest.raises(ValueError, match="no prices"):
        infer_grid(np.array([np.nan]))
    with pytest.raises(ValueError, match="tick size"):
        PriceGrid.of(-1.0)
