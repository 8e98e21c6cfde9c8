"""LLM-strategy sweeps equal single backtests; grids drop invalid combinations; the report."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest
from random_walk_bars import synthetic_bars

from tardis_assets.lib.backtest import (
    LLMStrategyParams,
    llm_optimization_report,
    llm_param_grid,
    llm_param_random,
    run_llm_strategy,
    sweep_llm,
)


def _signals(bars: pl.DataFrame, seed: int = 0) -> pl.DataFrame:
    n = bars.height
    rng = np.random.default_rng(seed)
    frames = []
    for kind, values in (
        ("sentiment", rng.uniform(-1, 1, n)),
        ("pattern", rng.choice([-1.0, 0.0, 1.0], n)),
        ("risk", rng.uniform(0, 1, n)),
    ):
        frames.append(
            pl.DataFrame(
                {
                    "bar_start": bars["bar_start"],
                    "kind": kind,
                    "value": values,
                    "confidence": rng.uniform(0, 1, n),
                    "status": rng.choice(["ok", "ok", "ok", "parse_error"], n),
                    "available_at": bars["bar_start"]
                    + pl.Series(rng.integers(30, 300, n) * 1_000_000).cast(pl.Duration("us")),
                }
            ).with_columns(pl.when(pl.col("status") == "ok").then(pl.col("value")).otherwise(None))
        )
    return pl.concat(frames)


def test_llm_sweep_equals_single_backtests() -> None:
    bars = synthetic_bars(1500, seed=12)
    sig = _signals(bars)
    grid = llm_param_grid(
        {
            "w_sentiment": [0.3, 0.8],
            "entry_threshold": [0.1, 0.4],
            "exit_threshold": [0.0, 0.2],
            "min_confidence": [0.0, 0.5],
            "holding_bars": [0, 20],
            "stop_loss": [0.0, 0.002],
            "allow_short": [True, False],
        }
    )
    # exit 0.2 with entry 0.1 is invalid and dropped.
    assert grid.height == 2 * 3 * 2 * 2 * 2 * 2
    out = sweep_llm(bars, sig, grid, cscv_splits=4)
    assert out.partition_stats.shape == (3, grid.height, 4)
    for i in range(0, grid.height, 7):
        params = dataclasses.replace(LLMStrategyParams(), **grid.row(i, named=True))
        single = run_llm_strategy(bars, sig, params)
        for name in ("total_return", "sharpe", "max_drawdown", "turnover", "n_trades"):
            got, want = out.results[name][i], single.metrics[name]
            if got is None:
                assert np.isnan(want)
            else:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (i, name)


def test_llm_random_search_and_bad_inputs() -> None:
    rnd = llm_param_random(
        40, {"entry_threshold": (0.05, 0.6), "holding_bars": (0, 30), "allow_short": [True]}, 4
    )
    assert rnd.height == 40 and rnd["holding_bars"].dtype == pl.Int64
    assert rnd.equals(
        llm_param_random(
            40, {"entry_threshold": (0.05, 0.6), "holding_bars": (0, 30), "allow_short": [True]}, 4
        )
    )
    with pytest.raises(ValueError, match="unknown LLM strategy parameter"):
        llm_param_grid({"window": [3]})
    with pytest.raises(ValueError, match="empty parameter range"):
        llm_param_grid({"entry_threshold": []})
    with pytest.raises(ValueError, match="no valid combination"):
        llm_param_grid({"fee_bps": [-1.0, -2.0]})
    bars = synthetic_bars(200, seed=1)
    with pytest.raises(ValueError, match="combos row 1: fee_bps must be >= 0"):
        sweep_llm(bars, _signals(bars), pl.DataFrame({"fee_bps": [1.0, -1.0]}))


def test_llm_optimization_report() -> None:
    bars = synthetic_bars(2000, seed=13)
    rep = llm_optimization_report(
        bars,
        _signals(bars, seed=2),
        grid={"entry_threshold": [0.1, 0.3, 0.5], "max_risk": [0.5, 0.9], "min_confidence": [0.2]},
        n_random=20,
        random_ranges={"w_sentiment": (0.1, 1.0), "entry_threshold": (0.05, 0.5)},
        run_id="llm-opt",
        top=3,
    )
    meta = rep.metadata
    assert meta["n_combinations"] == rep.tables["optimization_results"].height == 26
    assert meta["dsr_n_trials"] == 26 and 0 <= meta["pbo"] <= 1
    assert rep.png.startswith(b"\x89PNG") and len(rep.png) < 60_000
    assert rep.tables["optimization_top"].height == 3
