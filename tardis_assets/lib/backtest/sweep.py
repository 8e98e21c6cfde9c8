"""Parameter sweeps of the dual moving-average crossover: grid or random, chunked, multi-core.

How it stays fast and small:

* Each moving average is computed once per unique window (from one shared running sum) into a
  bank of at most ``max_indicator_bytes``; the fast windows stay in the bank while the slow
  windows stream through it block by block. Only if the fast windows alone overflow half the
  budget are they split, and then a slow window is recomputed once per fast group.
* Combinations never materialize per-bar arrays: the kernel folds every metric into a running
  state row, so memory is the bank plus a few floats per combination.
* Time is walked in blocks of ``block_bars`` bars; every combination of a lane runs one block and
  parks its state, so the block's prices and averages stay in cache across combinations.
* Lanes are threads running ``nogil`` numba code on disjoint combinations: both cores work.
* The common case (long-only, all-in, no stops or holding limit) takes `dual_ma_long_lane`:
  crossings are found 64 bars at a time from bit masks, only bars with an order run the full
  kernel step, and holding stretches are advanced from shared prefix sums and block extremes.
  Everything else takes `dual_ma_lane` (the kernel on bars in a position or with an order).
  Tests hold both to the single-backtest engine. Lanes live in `sweep_lanes`, the memory and
  time layout in `sweep_plan`.

Per-combination results equal `engine.run_dual_ma` (same kernel) to floating-point rounding.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from tardis_assets.lib.backtest import kernel as kn
from tardis_assets.lib.backtest import segments as sg
from tardis_assets.lib.backtest.inputs import BarArrays, prepare_bars
from tardis_assets.lib.backtest.metrics import METRIC_NAMES, finalize_stats
from tardis_assets.lib.backtest.params import ExecutionParams
from tardis_assets.lib.backtest.strategies import moving_average_into, running_sum
from tardis_assets.lib.backtest.sweep_lanes import dual_ma_lane, dual_ma_long_lane
from tardis_assets.lib.backtest.sweep_plan import block_bounds, lanes, plan_chunks

DEFAULT_MAX_INDICATOR_BYTES = 512 * 1024 * 1024
DEFAULT_BLOCK_BARS = 2048


def _check_windows(name: str, values: np.ndarray) -> None:
    if values.size == 0:
        raise ValueError(f"{name}: empty range of windows")
    if (values < 1).any():
        raise ValueError(f"{name}: window must be >= 1, got {int(values.min())}")


def dual_ma_grid(fast: list[int] | np.ndarray, slow: list[int] | np.ndarray) -> pl.DataFrame:
    """Every (fast, slow) pair with fast < slow, as a frame with Int64 columns fast, slow."""
    f = np.unique(np.asarray(fast, dtype=np.int64))
    s = np.unique(np.asarray(slow, dtype=np.int64))
    _check_windows("fast", f)
    _check_windows("slow", s)
    ff, ss = np.meshgrid(f, s, indexing="ij")
    keep = ff < ss
    if not keep.any():
        raise ValueError("grid is empty: no fast window is shorter than a slow window")
    return pl.DataFrame({"fast": ff[keep], "slow": ss[keep]})


def dual_ma_random(
    n: int, fast_range: tuple[int, int], slow_range: tuple[int, int], seed: int = 0
) -> pl.DataFrame:
    """``n`` distinct random (fast, slow) pairs, windows drawn from inclusive ranges, fast < slow.

    Seeded, so the same call is the same search (and a result can be reproduced).
    """
    if n < 1:
        raise ValueError(f"random search needs n >= 1 combinations, got {n}")
    (f_lo, f_hi), (s_lo, s_hi) = fast_range, slow_range
    if f_lo < 1 or s_lo < 1 or f_hi < f_lo or s_hi < s_lo:
        raise ValueError(f"bad window ranges fast={fast_range} slow={slow_range}")
    grid = dual_ma_grid(np.arange(f_lo, f_hi + 1), np.arange(s_lo, s_hi + 1))
    if n > grid.height:
        raise ValueError(f"asked for {n} distinct combinations, the ranges only hold {grid.height}")
    rng = np.random.default_rng(seed)
    return grid[np.sort(rng.choice(grid.height, size=n, replace=False))]


def is_fast_path(execution: ExecutionParams) -> bool:
    """Whether the prefix-sum lane applies: long-only, all-in, no stops, no holding limit."""
    return (
        not execution.allow_short
        and execution.position_size == 1.0
        and execution.stop_loss == 0.0
        and execution.take_profit == 0.0
        and execution.holding_bars == 0
    )


@dataclass
class SweepOutput:
    """A sweep's results frame (params + metrics per combination, input order) and, when asked,
    per-partition return sums for CSCV: ``partition_stats[j, k, p]`` with j = 0 sum, 1 sum of
    squares, 2 bar count of combination k in contiguous partition p."""

    results: pl.DataFrame
    partition_stats: np.ndarray | None
    n_bars: int
    bars_per_year: float


def sweep_dual_ma(
    bars: pl.DataFrame | BarArrays,
    combos: pl.DataFrame,
    execution: ExecutionParams | None = None,
    **kwargs: object,
) -> pl.DataFrame:
    """Backtest every (fast, slow) row of ``combos``; return params + all metrics per row
    (keyword options as `run_sweep`)."""
    return run_sweep(bars, combos, execution, **kwargs).results


def run_sweep(
    bars: pl.DataFrame | BarArrays,
    combos: pl.DataFrame,
    execution: ExecutionParams | None = None,
    *,
    bars_per_year: float | None = None,
    n_threads: int | None = None,
    max_indicator_bytes: int = DEFAULT_MAX_INDICATOR_BYTES,
    block_bars: int = DEFAULT_BLOCK_BARS,
    use_fast_path: bool = True,
    cscv_splits: int = 0,
) -> SweepOutput:
    """Backtest every (fast, slow) row of ``combos`` with the shared kernel.

    Semantics are exactly `engine.run_dual_ma`'s: a crossing at bar i's close trades at bar
    i+1's open, with the costs of ``execution``. ``cscv_splits`` > 0 also records per-partition
    return sums so `overfitting.pbo_cscv` can run on every combination without per-bar arrays.
    """
    execution = execution or ExecutionParams()
    arrays = bars if isinstance(bars, BarArrays) else prepare_bars(bars, bars_per_year)
    if not isinstance(combos, pl.DataFrame) or not {"fast", "slow"} <= set(combos.columns):
        raise ValueError("combos must be a polars DataFrame with integer columns fast, slow")
    if combos.height == 0:
        raise ValueError("combos: empty parameter range (no combinations to run)")
    for name in ("fast", "slow"):
        if not combos.schema[name].is_integer():
            raise ValueError(
                f"combos: column {name} must hold integer windows, got {combos.schema[name]}"
            )
    fast = combos.get_column("fast").to_numpy().astype(np.int64)
    slow = combos.get_column("slow").to_numpy().astype(np.int64)
    _check_windows("fast", fast)
    _check_windows("slow", slow)
    if (fast >= slow).any():
        row = int(np.argmax(fast >= slow))
        raise ValueError(f"combos row {row}: fast window {fast[row]} must be < slow {slow[row]}")
    if block_bars < 1:
        raise ValueError(f"block_bars must be >= 1, got {block_bars}")
    n = len(arrays)
    threads = n_threads or os.cpu_count() or 1
    max_windows = max(2, int(max_indicator_bytes // (8 * n)))
    cost_frac = np.ascontiguousarray(execution.slippage_bps / 1e4 + arrays.half_spread_frac)
    cs = running_sum(arrays.close)
    fast_path = use_fast_path and is_fast_path(execution)
    prefix = sg.asset_prefix(arrays.close) if fast_path else np.zeros((1, 6))
    coarse = sg.close_extremes(arrays.close, sg.SUB) if fast_path else np.zeros((2, 1))
    fine = sg.close_extremes(arrays.close, sg.FINE) if fast_path else np.zeros((2, 1))
    if cscv_splits < 0 or (cscv_splits and cscv_splits > n):
        raise ValueError(f"cscv_splits must be in [0, {n}], got {cscv_splits}")
    bounds, snap_at = block_bounds(n, int(block_bars), int(cscv_splits))
    snaps = np.zeros((combos.height, max(1, cscv_splits), 3))
    state = np.empty((combos.height, kn.STATE_SIZE))
    for k in range(combos.height):
        kn.init_state(state, k, 1.0)
    chunks = plan_chunks(fast, slow, max_windows)
    bank = np.empty((min(max_windows, max(c.windows.size for c in chunks)), n))
    loaded: dict[int, int] = {}
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for chunk in chunks:
            need = [int(w) for w in chunk.windows if int(w) not in loaded]
            keep = {w: r for w, r in loaded.items() if w in set(chunk.windows.tolist())}
            free = [r for r in range(bank.shape[0]) if r not in keep.values()]
            jobs = []
            for w, r in zip(need, free, strict=False):
                keep[w] = r
                jobs.append(pool.submit(moving_average_into, cs, w, bank[r]))
            for j in jobs:
                j.result()
            loaded = keep
            rows = chunk.combos
            fast_row = np.array([loaded[int(w)] for w in fast[rows]], dtype=np.int64)
            slow_row = np.array([loaded[int(w)] for w in slow[rows]], dtype=np.int64)
            sub = np.ascontiguousarray(state[rows])
            snap_sub = np.zeros((rows.size, max(1, cscv_splits), 3))
            if fast_path:
                first_valid = slow[rows] - 1
                lane_args = [
                    (
                        dual_ma_long_lane,
                        arrays.open,
                        arrays.close,
                        cost_frac,
                        prefix,
                        coarse,
                        fine,
                        bank,
                        fast_row,
                        slow_row,
                        first_valid,
                        sub,
                        c0,
                        c1,
                        bounds,
                        snap_at,
                        snap_sub,
                        execution.fee_bps / 1e4,
                    )
                    for c0, c1 in lanes(rows.size, threads)
                ]
            else:
                lane_args = [
                    (
                        dual_ma_lane,
                        arrays.open,
                        arrays.close,
                        cost_frac,
                        bank,
                        fast_row,
                        slow_row,
                        slow[rows] - 1,
                        sub,
                        c0,
                        c1,
                        bounds,
                        snap_at,
                        snap_sub,
                        float(execution.position_size),
                        execution.fee_bps / 1e4,
                        float(execution.stop_loss),
                        float(execution.take_profit),
                        int(execution.holding_bars),
                        bool(execution.allow_short),
                    )
                    for c0, c1 in lanes(rows.size, threads)
                ]
            futures = [pool.submit(*args) for args in lane_args]
            for f in futures:
                f.result()
            state[rows] = sub
            snaps[rows] = snap_sub
    parts = None
    if cscv_splits:
        cum = snaps.transpose(2, 0, 1)  # (3, combos, parts), cumulative
        parts = np.diff(cum, axis=2, prepend=0.0)
    return SweepOutput(
        results=results_frame(combos, state, arrays.bars_per_year),
        partition_stats=parts,
        n_bars=n,
        bars_per_year=arrays.bars_per_year,
    )


def results_frame(params: pl.DataFrame, state: np.ndarray, bars_per_year: float) -> pl.DataFrame:
    """Params columns + metric columns; undefined ratios become nulls so sorting ranks them last."""
    cols = finalize_stats(state, bars_per_year)
    cols["total_cost"] = state[:, kn.S_COST]
    metrics = (
        pl.DataFrame({name: cols[name] for name in (*METRIC_NAMES, "total_cost")})
        .with_columns(pl.all().fill_nan(None))
        .with_columns(pl.col("n_trades").cast(pl.Int64))
    )
    return pl.concat([params, metrics], how="horizontal")


def top_n(results: pl.DataFrame, n: int = 10, by: str = "sharpe") -> pl.DataFrame:
    """Best ``n`` rows by ``by`` (descending; nulls last)."""
    if by not in results.columns:
        raise ValueError(f"cannot rank by {by!r}: not a results column {results.columns}")
    return results.sort(by, descending=True, nulls_last=True).head(n)
