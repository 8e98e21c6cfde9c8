"""The asset-facing report functions: tables, plain metadata and small PNGs."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import polars as pl
from random_walk_bars import synthetic_bars

from tardis_assets.lib.backtest import (
    LLMStrategyParams,
    backtest_report,
    monte_carlo_risk_report,
    optimization_report,
    params_hash,
    walk_forward_report,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _signals(bars: pl.DataFrame) -> pl.DataFrame:
    n = bars.height
    rng = np.random.default_rng(0)
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
                    "status": "ok",
                    "available_at": bars["bar_start"] + timedelta(seconds=75),
                }
            )
        )
    return pl.concat(frames)


def _plain(meta: dict) -> bool:
    return all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in meta.values())


def test_backtest_report() -> None:
    bars = synthetic_bars(1440, seed=3)
    params = LLMStrategyParams()
    rep = backtest_report(bars, _signals(bars), params, run_id="r1")
    assert rep.png.startswith(PNG_MAGIC) and len(rep.png) < 60_000
    assert rep.tables["backtest_per_bar"].height == 1440
    summary = rep.tables["backtest_summary"]
    assert summary.height == 1 and summary["params_hash"][0] == params_hash(params)
    assert _plain(rep.metadata) and rep.metadata["n_trades"] >= 1
    assert params_hash(params) != params_hash(LLMStrategyParams(fee_bps=6))


def test_optimization_report_has_dsr_and_pbo() -> None:
    bars = synthetic_bars(3000, seed=4)
    rep = optimization_report(
        bars, fast=range(2, 12), slow=range(20, 80, 10), n_random=30, seed=1, run_id="o1", top=5
    )
    meta = rep.metadata
    assert _plain(meta)
    assert meta["n_combinations"] == rep.tables["optimization_results"].height >= 60
    assert meta["dsr_n_trials"] == meta["n_combinations"]
    assert 0.0 <= meta["dsr"] <= 1.0 and 0.0 <= meta["pbo"] <= 1.0
    assert rep.tables["optimization_top"].height == 5
    assert math.isclose(rep.tables["optimization_top"]["sharpe"][0], meta["best_sharpe"])
    assert "| fast | slow |" in meta["top_n_markdown"]
    assert rep.png.startswith(PNG_MAGIC) and len(rep.png) < 60_000


def test_walk_forward_and_risk_reports() -> None:
    bars = synthetic_bars(2400, seed=6)
    wf = walk_forward_report(
        bars, fast=[2, 5], slow=[20, 50], in_sample=800, out_of_sample=400, run_id="w1"
    )
    assert wf.metadata["n_folds"] == 4 and _plain(wf.metadata)
    assert wf.png.startswith(PNG_MAGIC) and len(wf.png) < 60_000
    risk = monte_carlo_risk_report(
        wf.tables["walk_forward_oos"], run_id="k1", n_paths=300, horizon=240
    )
    meta = risk.metadata
    assert meta["var_99"] <= meta["var_95"] and meta["cvar_95"] <= meta["var_95"]
    assert risk.tables["risk_bands"].height > 1 and _plain(meta)
    assert risk.png.startswith(PNG_MAGIC) and len(risk.png) < 60_000
