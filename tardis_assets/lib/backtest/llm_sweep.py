"""Parameter sweeps of the LLM-signal strategy (grid or seeded random search), multi-core.

Signals are aligned to bars once per distinct ``min_confidence`` (the only parameter that changes
which rows count) and shared by every combination; each combination then costs one numba pass
for its actions and one for the kernel, in threads that release the GIL.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl
from numba import njit

from tardis_assets.lib.backtest import kernel as kn
from tardis_assets.lib.backtest.alignment import align_signals
from tardis_assets.lib.backtest.inputs import prepare_bars
from tardis_assets.lib.backtest.params import LLMStrategyParams
from tardis_assets.lib.backtest.strategies import llm_actions_into
from tardis_assets.lib.backtest.sweep import SweepOutput, results_frame
from tardis_assets.lib.backtest.sweep_plan import block_bounds, snapshot

FIELDS = tuple(f.name for f in dataclasses.fields(LLMStrategyParams))
# Columns of the per-combination parameter matrix handed to the numba lane.
_COLS = (
    "w_sentiment",
    "w_pattern",
    "entry_threshold",
    "exit_threshold",
    "max_risk",
    "allow_short",
    "position_size",
    "fee_bps",
    "slippage_bps",
    "stop_loss",
    "take_profit",
    "holding_bars",
)


def _valid_rows(frame: pl.DataFrame, base: LLMStrategyParams) -> tuple[pl.DataFrame, int]:
    keep = []
    for row in frame.iter_rows(named=True):
        try:
            dataclasses.replace(base, **row)
            keep.append(True)
        except ValueError:
            keep.append(False)
    mask = pl.Series(keep, dtype=pl.Boolean)
    return frame.filter(mask), int((~mask).sum())


def llm_param_grid(values: dict[str, list], base: LLMStrategyParams | None = None) -> pl.DataFrame:
    """Cartesian product of ``values`` (field name -> list), keeping only valid combinations
    (e.g. exit_threshold < entry_threshold); raises if none is valid."""
    base = base or LLMStrategyParams()
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown LLM strategy parameter(s) {sorted(unknown)}; known: {FIELDS}")
    if not values or any(len(v) == 0 for v in values.values()):
        raise ValueError("empty parameter range: every swept parameter needs at least one value")
    names = list(values)
    rows = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values.values())]
    frame, _ = _valid_rows(pl.DataFrame(rows), base)
    if frame.height == 0:
        raise ValueError("no valid combination in the grid (check thresholds and weights)")
    return frame


def llm_param_random(
    n: int,
    ranges: dict[str, tuple[float, float] | list],
    seed: int = 0,
    base: LLMStrategyParams | None = None,
) -> pl.DataFrame:
    """``n`` seeded random valid combinations: (lo, hi) tuples draw uniformly (integers for int
    fields), lists draw a member."""
    base = base or LLMStrategyParams()
    if n < 1:
        raise ValueError(f"random search needs n >= 1 combinations, got {n}")
    unknown = set(ranges) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown LLM strategy parameter(s) {sorted(unknown)}; known: {FIELDS}")
    rng = np.random.default_rng(seed)
    out: list[pl.DataFrame] = []
    have = 0
    for _ in range(50):
        cols = {}
        m = 2 * (n - have) + 16
        for name, spec in ranges.items():
            if isinstance(spec, list):
                cols[name] = [spec[i] for i in rng.integers(0, len(spec), m)]
            else:
                lo, hi = spec
                if isinstance(getattr(base, name), bool):
                    raise ValueError(f"{name} is a bool: give a list of values, not a range")
                if isinstance(getattr(base, name), int):
                    cols[name] = rng.integers(int(lo), int(hi) + 1, m).tolist()
                else:
                    cols[name] = rng.uniform(lo, hi, m).tolist()
        frame, _ = _valid_rows(pl.DataFrame(cols), base)
        out.append(frame)
        have += frame.height
        if have >= n:
            break
    result = pl.concat(out).head(n)
    if result.height < n:
        raise ValueError(f"could only draw {result.height} valid combinations of {n}")
    return result


@njit(cache=True, nogil=True)
def _llm_lane(
    open_: np.ndarray,
    close: np.ndarray,
    half_spread: np.ndarray,
    views: np.ndarray,
    group: np.ndarray,
    params: np.ndarray,
    state: np.ndarray,
    c0: int,
    c1: int,
    bounds: np.ndarray,
    snap_at: np.ndarray,
    snap: np.ndarray,
) -> None:
    n = open_.shape[0]
    actions = np.empty(n, dtype=np.int8)
    cost = np.empty(n)
    unused = np.empty((5, 1))
    for k in range(c0, c1):
        p = params[k]
        g = group[k]
        llm_actions_into(
            views[g, 0],
            views[g, 1],
            views[g, 2],
            p[0],
            p[1],
            p[2],
            p[3],
            p[4],
            p[5] != 0.0,
            actions,
        )
        slip = p[8] / 1e4
        for i in range(n):
            cost[i] = slip + half_spread[i]
        for b in range(bounds.shape[0] - 1):
            kn.run_block(
                state,
                k,
                open_,
                close,
                cost,
                actions,
                0,
                bounds[b],
                bounds[b + 1],
                p[6],
                p[7] / 1e4,
                p[9],
                p[10],
                int(p[11]),
                p[5] != 0.0,
                False,
                unused,
            )
            snapshot(state, k, k + 1, snap, snap_at[b])


def sweep_llm(
    bars: pl.DataFrame,
    signals: pl.DataFrame,
    combos: pl.DataFrame,
    base: LLMStrategyParams | None = None,
    *,
    bars_per_year: float | None = None,
    n_threads: int | None = None,
    cscv_splits: int = 0,
) -> SweepOutput:
    """Backtest every row of ``combos`` (columns = LLMStrategyParams fields; the rest from
    ``base``) exactly as `engine.run_llm_strategy` would; rows keep their order."""
    base = base or LLMStrategyParams()
    if combos.height == 0:
        raise ValueError("combos: empty parameter range (no combinations to run)")
    unknown = set(combos.columns) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown LLM strategy parameter column(s) {sorted(unknown)}")
    arrays = prepare_bars(bars, bars_per_year)
    n = len(arrays)
    params = []
    for i, row in enumerate(combos.iter_rows(named=True)):
        try:
            params.append(dataclasses.replace(base, **row))
        except ValueError as exc:
            raise ValueError(f"combos row {i}: {exc}") from exc
    confs = sorted({p.min_confidence for p in params})
    views = np.empty((len(confs), 3, n))
    for g, conf in enumerate(confs):
        aligned = align_signals(arrays.bar_start_us, signals, conf)
        for j, kind in enumerate(("sentiment", "pattern", "risk")):
            views[g, j] = aligned[kind]
    group = np.array([confs.index(p.min_confidence) for p in params], dtype=np.int64)
    mat = np.array([[float(getattr(p, c)) for c in _COLS] for p in params])
    if cscv_splits < 0 or cscv_splits > n:
        raise ValueError(f"cscv_splits must be in [0, {n}], got {cscv_splits}")
    bounds, snap_at = block_bounds(n, n, int(cscv_splits))
    state = np.empty((len(params), kn.STATE_SIZE))
    for k in range(len(params)):
        kn.init_state(state, k, 1.0)
    snaps = np.zeros((len(params), max(1, cscv_splits), 3))
    threads = n_threads or os.cpu_count() or 1
    edges = np.linspace(0, len(params), threads + 1).astype(np.int64)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [
            pool.submit(
                _llm_lane,
                arrays.open,
                arrays.close,
                arrays.half_spread_frac,
                views,
                group,
                mat,
                state,
                int(a),
                int(b),
                bounds,
                snap_at,
                snaps,
            )
            for a, b in itertools.pairwise(edges)
            if b > a
        ]
        for f in futures:
            f.result()
    parts = np.diff(snaps.transpose(2, 0, 1), axis=2, prepend=0.0) if cscv_splits else None
    return SweepOutput(
        results=results_frame(combos, state, arrays.bars_per_year),
        partition_stats=parts,
        n_bars=n,
        bars_per_year=arrays.bars_per_year,
    )
