"""Everything the backtest-layer Dagster assets need, as pure functions of frames and params.

Each function returns an `AssetReport`: frames to store in DuckDB (name -> frame), a metadata
dict of plain numbers/strings, and one small PNG. The asset bodies only load inputs, call one of
these, write the tables and attach the metadata, so all logic stays testable without Dagster.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass

import numpy as np
import polars as pl

from tardis_assets.lib.backtest.charts import (
    equity_drawdown_png,
    monte_carlo_fan_png,
    sharpe_heatmap_png,
)
from tardis_assets.lib.backtest.engine import run_dual_ma, run_llm_strategy
from tardis_assets.lib.backtest.inputs import prepare_bars
from tardis_assets.lib.backtest.llm_sweep import llm_param_grid, llm_param_random, sweep_llm
from tardis_assets.lib.backtest.metrics import MINUTES_PER_YEAR
from tardis_assets.lib.backtest.monte_carlo import bootstrap, var_cvar
from tardis_assets.lib.backtest.overfitting import deflated_sharpe_from_trials, pbo_cscv
from tardis_assets.lib.backtest.params import DualMAParams, ExecutionParams, LLMStrategyParams
from tardis_assets.lib.backtest.sweep import (
    dual_ma_grid,
    dual_ma_random,
    run_sweep,
    top_n,
)
from tardis_assets.lib.backtest.walk_forward import walk_forward_dual_ma
from tardis_assets.lib.markdown import markdown_table


@dataclass
class AssetReport:
    """Tables to write (name -> frame), plain metadata and one PNG for a materialization."""

    tables: dict[str, pl.DataFrame]
    metadata: dict[str, float | int | str]
    png: bytes


def params_hash(params: object) -> str:
    """Stable short hash of a params dataclass (canonical JSON), the key of stored runs."""
    payload = json.dumps(
        {"type": type(params).__name__, **dataclasses.asdict(params)}, sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _plain(metrics: dict[str, float]) -> dict[str, float]:
    return {k: (float(v) if np.isfinite(v) else float("nan")) for k, v in metrics.items()}


def backtest_report(
    bars: pl.DataFrame,
    signals: pl.DataFrame,
    params: LLMStrategyParams,
    *,
    run_id: str,
    bars_per_year: float | None = None,
) -> AssetReport:
    """`backtest_results`: the LLM strategy on one partition or a configured range.

    Tables: ``backtest_per_bar`` (run_id, params_hash + the per-bar frame) and
    ``backtest_summary`` (one row: run_id, params_hash, params JSON, n_bars, every metric).
    """
    res = run_llm_strategy(bars, signals, params, bars_per_year)
    ph = params_hash(params)
    per_bar = res.per_bar.with_columns(
        pl.lit(run_id).alias("run_id"), pl.lit(ph).alias("params_hash")
    )
    metrics = _plain(res.metrics)
    summary = pl.DataFrame(
        [
            {
                "run_id": run_id,
                "params_hash": ph,
                "params": json.dumps(dataclasses.asdict(params), sort_keys=True),
                "first_bar": res.per_bar["bar_start"][0],
                "last_bar": res.per_bar["bar_start"][-1],
                "n_bars": res.per_bar.height,
                **metrics,
            }
        ]
    )
    meta: dict[str, float | int | str] = {
        "run_id": run_id,
        "params_hash": ph,
        "n_bars": res.per_bar.height,
        **metrics,
        "n_trades": res.n_trades,
    }
    return AssetReport(
        tables={"backtest_per_bar": per_bar, "backtest_summary": summary},
        metadata=meta,
        png=equity_drawdown_png(res.per_bar, title=f"LLM strategy {ph}"),
    )


def _overfitting_metadata(
    results: pl.DataFrame,
    best_returns: np.ndarray,
    bars_per_year: float,
    partition_stats: np.ndarray,
    cscv_splits: int,
    elapsed: float,
) -> dict[str, float | int | str]:
    """What every sweep reports beside its best Sharpe: speed, DSR over all trials, PBO."""
    best = top_n(results, 1).row(0, named=True)
    dsr = deflated_sharpe_from_trials(
        results.get_column("sharpe").fill_null(np.nan).to_numpy(), best_returns, bars_per_year
    )
    pbo = pbo_cscv(partition_stats) if cscv_splits and results.height >= 2 else None
    return {
        "sweep_seconds": elapsed,
        "combos_per_second": results.height / elapsed if elapsed > 0 else float("nan"),
        "best_sharpe": float(best["sharpe"]) if best["sharpe"] is not None else float("nan"),
        "best_total_return": float(best["total_return"]),
        "dsr": dsr.dsr,
        "dsr_sr0_annualized": dsr.sr0 * float(np.sqrt(bars_per_year)),
        "dsr_n_trials": dsr.n_trials,
        "pbo": pbo.pbo if pbo else float("nan"),
        "pbo_splits": cscv_splits,
    }


def optimization_report(
    bars: pl.DataFrame,
    *,
    fast: list[int] | range,
    slow: list[int] | range,
    n_random: int = 0,
    random_fast: tuple[int, int] | None = None,
    random_slow: tuple[int, int] | None = None,
    seed: int = 0,
    execution: ExecutionParams | None = None,
    top: int = 10,
    cscv_splits: int = 16,
    run_id: str,
    bars_per_year: float | None = None,
) -> AssetReport:
    """`strategy_optimization`: grid (+ seeded random search) sweep of the dual MA crossover.

    Every combination run counts as a trial: DSR uses N = all of them and PBO (CSCV, S =
    ``cscv_splits``) ranks all of them. Tables: ``optimization_results`` (params + metrics per
    combination) and ``optimization_top`` (best ``top`` by Sharpe).
    """
    execution = execution or ExecutionParams()
    arrays = prepare_bars(bars, bars_per_year)
    combos = dual_ma_grid(list(fast), list(slow))
    if n_random:
        extra = dual_ma_random(
            n_random,
            random_fast or (min(fast), max(fast)),
            random_slow or (min(slow), max(slow)),
            seed,
        )
        combos = pl.concat([combos, extra]).unique(maintain_order=True)
    t0 = time.perf_counter()
    out = run_sweep(arrays, combos, execution, cscv_splits=cscv_splits)
    elapsed = time.perf_counter() - t0
    results = out.results
    best = top_n(results, 1).row(0, named=True)
    params = DualMAParams(
        fast=int(best["fast"]),
        slow=int(best["slow"]),
        **{f.name: getattr(execution, f.name) for f in dataclasses.fields(execution)},
    )
    best_run = run_dual_ma(bars, params, bars_per_year)
    trials = _overfitting_metadata(
        results,
        best_run.per_bar.get_column("net_return").to_numpy(),
        arrays.bars_per_year,
        out.partition_stats,
        cscv_splits,
        elapsed,
    )
    tops = top_n(results, top)
    meta: dict[str, float | int | str] = {
        "run_id": run_id,
        "n_combinations": results.height,
        "n_bars": len(arrays),
        "best_fast": params.fast,
        "best_slow": params.slow,
        **trials,
        "top_n_markdown": markdown_table(
            tops.select("fast", "slow", "sharpe", "total_return", "max_drawdown", "n_trades")
        ),
    }
    results = results.with_columns(pl.lit(run_id).alias("run_id"))
    return AssetReport(
        tables={
            "optimization_results": results,
            "optimization_top": tops.with_columns(pl.lit(run_id).alias("run_id")),
        },
        metadata=meta,
        png=sharpe_heatmap_png(results),
    )


def walk_forward_report(
    bars: pl.DataFrame,
    *,
    fast: list[int] | range,
    slow: list[int] | range,
    in_sample: int,
    out_of_sample: int,
    execution: ExecutionParams | None = None,
    run_id: str,
    bars_per_year: float | None = None,
) -> AssetReport:
    """`walk_forward`: rolling optimize/evaluate; tables ``walk_forward_folds`` and
    ``walk_forward_oos`` (stitched out-of-sample per-bar frame)."""
    res = walk_forward_dual_ma(
        bars,
        dual_ma_grid(list(fast), list(slow)),
        in_sample=in_sample,
        out_of_sample=out_of_sample,
        execution=execution,
        bars_per_year=bars_per_year,
    )
    meta: dict[str, float | int | str] = {
        "run_id": run_id,
        "n_folds": res.folds.height,
        "efficiency": res.efficiency,
        **{f"oos_{k}": v for k, v in _plain(res.oos_metrics).items()},
    }
    return AssetReport(
        tables={
            "walk_forward_folds": res.folds.with_columns(pl.lit(run_id).alias("run_id")),
            "walk_forward_oos": res.oos_per_bar.with_columns(pl.lit(run_id).alias("run_id")),
        },
        metadata=meta,
        png=equity_drawdown_png(res.oos_per_bar, title="Walk-forward out-of-sample equity"),
    )


def monte_carlo_risk_report(
    per_bar: pl.DataFrame,
    *,
    run_id: str,
    n_paths: int = 2000,
    horizon: int = 1440,
    mean_block: float = 60.0,
    drawdown_floor: float = 0.2,
    seed: int = 0,
    bars_per_year: float = MINUTES_PER_YEAR,
) -> AssetReport:
    """`risk_report`: Monte Carlo (stationary bootstrap) of a backtest's per-bar net returns.

    Tables: ``risk_summary`` (one row of VaR/CVaR/ruin numbers, horizon and per-bar) and
    ``risk_bands`` (equity percentiles per checkpoint bar).
    """
    if "net_return" not in per_bar.columns:
        raise ValueError(f"risk report needs a net_return column; have {per_bar.columns}")
    r = per_bar.get_column("net_return").to_numpy()
    mc = bootstrap(
        r,
        n_paths=n_paths,
        horizon=horizon,
        mean_block=mean_block,
        drawdown_floor=drawdown_floor,
        seed=seed,
    )
    bar_var95, bar_cvar95 = var_cvar(r, 0.95)
    bar_var99, bar_cvar99 = var_cvar(r, 0.99)
    meta: dict[str, float | int | str] = {
        "run_id": run_id,
        "n_bars": int(r.size),
        **mc.metadata(),
        "bar_var_95": bar_var95,
        "bar_cvar_95": bar_cvar95,
        "bar_var_99": bar_var99,
        "bar_cvar_99": bar_cvar99,
        "horizon_days": horizon / bars_per_year * 365.0,
    }
    bands = pl.DataFrame(
        {
            "run_id": [run_id] * mc.checkpoints.size,
            "bars_ahead": mc.checkpoints,
            **{f"p{p:g}": mc.bands[:, j] for j, p in enumerate(mc.band_percentiles)},
        }
    )
    return AssetReport(
        tables={"risk_summary": pl.DataFrame([meta]), "risk_bands": bands},
        metadata=meta,
        png=monte_carlo_fan_png(mc.checkpoints, mc.bands, mc.band_percentiles),
    )


def influential_params(results: pl.DataFrame, params: list[str], k: int = 2) -> list[str]:
    """The ``k`` swept parameters whose values move the mean Sharpe the most (variance of the
    per-value mean Sharpe): the two axes worth a heatmap."""
    scored = []
    for name in params:
        if results.get_column(name).n_unique() < 2:
            continue
        means = results.group_by(name).agg(pl.col("sharpe").mean()).get_column("sharpe")
        scored.append((float(means.fill_null(0.0).var() or 0.0), name))
    scored.sort(reverse=True)
    return [name for _, name in scored[:k]]


def llm_optimization_report(
    bars: pl.DataFrame,
    signals: pl.DataFrame,
    *,
    grid: dict[str, list] | None = None,
    n_random: int = 0,
    random_ranges: dict[str, tuple[float, float] | list] | None = None,
    seed: int = 0,
    base: LLMStrategyParams | None = None,
    top: int = 10,
    cscv_splits: int = 16,
    run_id: str,
    bars_per_year: float | None = None,
) -> AssetReport:
    """`strategy_optimization` for the LLM-signal strategy: grid (+ seeded random) sweep.

    DSR uses N = every combination run, PBO ranks all of them (CSCV, S = ``cscv_splits``).
    Tables ``optimization_results`` / ``optimization_top`` as in `optimization_report`.
    """
    base = base or LLMStrategyParams()
    frames = []
    if grid:
        frames.append(llm_param_grid(grid, base))
    if n_random:
        if not random_ranges:
            raise ValueError("n_random > 0 needs random_ranges")
        frames.append(llm_param_random(n_random, random_ranges, seed, base))
    if not frames:
        raise ValueError("nothing to optimize: give a grid and/or n_random with random_ranges")
    combos = pl.concat(frames, how="diagonal_relaxed")
    for name in combos.columns:
        combos = combos.with_columns(pl.col(name).fill_null(getattr(base, name)))
    combos = combos.unique(maintain_order=True)
    t0 = time.perf_counter()
    out = sweep_llm(
        bars, signals, combos, base, bars_per_year=bars_per_year, cscv_splits=cscv_splits
    )
    elapsed = time.perf_counter() - t0
    results = out.results
    best = top_n(results, 1).row(0, named=True)
    best_params = dataclasses.replace(base, **{c: best[c] for c in combos.columns})
    best_run = run_llm_strategy(bars, signals, best_params, bars_per_year)
    trials = _overfitting_metadata(
        results,
        best_run.per_bar.get_column("net_return").to_numpy(),
        out.bars_per_year,
        out.partition_stats,
        cscv_splits,
        elapsed,
    )
    tops = top_n(results, top)
    axes = influential_params(results, list(combos.columns))
    meta: dict[str, float | int | str] = {
        "run_id": run_id,
        "n_combinations": results.height,
        "n_bars": out.n_bars,
        "best_params": json.dumps(dataclasses.asdict(best_params), sort_keys=True),
        "best_params_hash": params_hash(best_params),
        **trials,
        "top_n_markdown": markdown_table(
            tops.select(*combos.columns, "sharpe", "total_return", "max_drawdown", "n_trades")
        ),
    }
    png = (
        sharpe_heatmap_png(results, x=axes[0], y=axes[1])
        if len(axes) == 2
        else equity_drawdown_png(best_run.per_bar, title="Best LLM strategy")
    )
    results = results.with_columns(pl.lit(run_id).alias("run_id"))
    return AssetReport(
        tables={
            "optimization_results": results,
            "optimization_top": tops.with_columns(pl.lit(run_id).alias("run_id")),
        },
        metadata=meta,
        png=png,
    )
