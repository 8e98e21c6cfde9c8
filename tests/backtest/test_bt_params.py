"""Bad parameters and bad inputs fail early with errors that say what is wrong."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from random_walk_bars import synthetic_bars

from tardis_assets.lib.backtest import (
    DualMAParams,
    LLMStrategyParams,
    run_dual_ma,
    run_llm_strategy,
)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fee_bps": -1.0}, "fee_bps must be >= 0"),
        ({"slippage_bps": -0.5}, "slippage_bps must be >= 0"),
        ({"entry_threshold": 0.0}, "entry_threshold must be > 0"),
        ({"entry_threshold": 0.2, "exit_threshold": 0.3}, "exit_threshold must be in"),
        ({"entry_threshold": 1.5}, "could never trade"),
        ({"min_confidence": 1.2}, "min_confidence"),
        ({"max_risk": -0.1}, "max_risk"),
        ({"holding_bars": -3}, "holding_bars must be >= 0"),
        ({"holding_bars": 2.5}, "holding_bars must be an integer"),
        ({"stop_loss": -0.01}, "stop_loss"),
        ({"position_size": 0.0}, "position_size"),
        ({"w_sentiment": 0.0, "w_pattern": 0.0}, "cannot both be 0"),
        ({"fee_bps": float("nan")}, "finite"),
    ],
)
def test_llm_params_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LLMStrategyParams(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fast": 0, "slow": 10}, "fast window must be an integer >= 1"),
        ({"fast": 10, "slow": 10}, "must be shorter"),
        ({"fast": 5, "slow": 20, "fee_bps": -2.0}, "fee_bps"),
    ],
)
def test_dual_ma_params_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DualMAParams(**kwargs)


def _no_signals() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "bar_start": pl.Datetime("us", "UTC"),
            "kind": pl.Utf8,
            "value": pl.Float64,
            "confidence": pl.Float64,
            "status": pl.Utf8,
            "available_at": pl.Datetime("us", "UTC"),
        }
    )


def test_empty_bars_rejected() -> None:
    bars = synthetic_bars(10).clear()
    with pytest.raises(ValueError, match="no bars in the requested range"):
        run_llm_strategy(bars, _no_signals(), LLMStrategyParams())
    with pytest.raises(ValueError, match="no bars in the requested range"):
        run_dual_ma(bars, DualMAParams())


def test_bad_bars_rejected() -> None:
    bars = synthetic_bars(10)
    with pytest.raises(ValueError, match="missing column"):
        run_llm_strategy(bars.drop("open"), _no_signals(), LLMStrategyParams())
    unsorted = bars.reverse()
    with pytest.raises(ValueError, match="strictly increasing; row 1"):
        run_llm_strategy(unsorted, _no_signals(), LLMStrategyParams())
    negative = bars.with_columns(
        pl.when(pl.int_range(pl.len()) == 4).then(-1.0).otherwise(pl.col("close")).alias("close")
    )
    with pytest.raises(ValueError, match="close must be a finite positive price; row 4"):
        run_llm_strategy(negative, _no_signals(), LLMStrategyParams())
    naive = bars.with_columns(pl.col("bar_start").dt.replace_time_zone(None))
    with pytest.raises(ValueError, match="no time zone"):
        run_llm_strategy(naive, _no_signals(), LLMStrategyParams())


def test_bad_signals_rejected() -> None:
    bars = synthetic_bars(10)
    row = {
        "bar_start": [bars["bar_start"][1]],
        "kind": ["sentiment"],
        "value": [1.7],
        "confidence": [0.9],
        "status": ["ok"],
        "available_at": [bars["bar_start"][2] + timedelta(seconds=1)],
    }
    sig = pl.DataFrame(row, schema=_no_signals().schema)
    with pytest.raises(ValueError, match=r"row 0 \(sentiment.*outside \[-1.0, 1.0\]"):
        run_llm_strategy(bars, sig, LLMStrategyParams())
    with pytest.raises(ValueError, match="unknown kind 'mood'"):
        run_llm_strategy(bars, sig.with_columns(pl.lit("mood").alias("kind")), LLMStrategyParams())
    with pytest.raises(ValueError, match="status ok but available_at is null"):
        run_llm_strategy(
            bars,
            sig.with_columns(pl.lit(0.5).alias("value"), pl.lit(None).alias("available_at")),
            LLMStrategyParams(),
        )
    with pytest.raises(ValueError, match="missing column"):
        run_llm_strategy(bars, sig.drop("available_at"), LLMStrategyParams())
