"""Benchmark: the project's dual moving-average sweep against vectorbt on the same bars.

One run does (a) the project's sweep of ``--combos`` (fast, slow) combinations with fees,
slippage and the full metric set on ``--bars`` seeded synthetic 1-minute bars, and (b) vectorbt
on an evenly spread subset of the same combinations with the same semantics: crossings of the
rolling means of closes, entries/exits shifted to the next bar, filled at that bar's open with
the same fee and slippage, all-in long-only, equity marked at closes. It prints both rates, the
ratio, the project's peak RSS (measured before vectorbt runs) and the largest Sharpe difference
on the shared subset. The last line is a one-line summary.

    .venv/bin/python bench/sweep.py                       # 525,600 bars, 10,000 combinations
    .venv/bin/python bench/sweep.py --bars 20000 --combos 200 --vbt-combos 10
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

from tardis_assets.lib.backtest import ExecutionParams, dual_ma_grid, prepare_bars, run_sweep

# The same seeded random-walk bars the backtest tests use.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "backtest"))
from random_walk_bars import synthetic_bars

FEE_BPS = 5.0
SLIPPAGE_BPS = 1.0


def grid_for(n_combos: int) -> pl.DataFrame:
    """First ``n_combos`` of a fast 2..101 x slow 110, 120, ... grid (fast < slow always)."""
    n_fast = min(100, n_combos)
    n_slow = math.ceil(n_combos / n_fast)
    grid = dual_ma_grid(np.arange(2, 2 + n_fast), 110 + 10 * np.arange(n_slow))
    return grid.head(n_combos)


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def run_project(bars: pl.DataFrame, combos: pl.DataFrame, threads: int | None) -> tuple:
    arrays = prepare_bars(bars)
    execution = ExecutionParams(fee_bps=FEE_BPS, slippage_bps=SLIPPAGE_BPS)
    # Warm-up on a sliver so numba's on-disk cache is loaded outside the timing.
    warm = prepare_bars(bars.head(2000))
    run_sweep(warm, combos.head(4).with_columns(pl.col("slow").clip(upper_bound=1000)), execution)
    t0 = time.perf_counter()
    out = run_sweep(arrays, combos, execution, n_threads=threads)
    elapsed = time.perf_counter() - t0
    return out.results, elapsed, peak_rss_gib()


def run_vectorbt(bars: pl.DataFrame, combos: pl.DataFrame) -> tuple[np.ndarray, float]:
    import pandas as pd
    import vectorbt as vbt

    index = pd.DatetimeIndex(bars.get_column("bar_start").to_numpy(), name="bar_start")
    close = pd.Series(bars.get_column("close").to_numpy(), index=index)
    open_ = pd.Series(bars.get_column("open").to_numpy(), index=index)
    fast = combos.get_column("fast").to_list()
    slow = combos.get_column("slow").to_list()

    def once(c: pd.Series, o: pd.Series) -> np.ndarray:
        fast_ma = vbt.MA.run(c, window=fast).ma.to_numpy()
        slow_ma = vbt.MA.run(c, window=slow).ma.to_numpy()
        cols = pd.RangeIndex(len(fast))
        f = pd.DataFrame(fast_ma, index=c.index, columns=cols)
        s = pd.DataFrame(slow_ma, index=c.index, columns=cols)
        entries = f.vbt.crossed_above(s).vbt.fshift(1, fill_value=False)
        exits = f.vbt.crossed_below(s).vbt.fshift(1, fill_value=False)
        wide = pd.DataFrame(np.repeat(c.to_numpy()[:, None], len(fast), axis=1), c.index, cols)
        price = pd.DataFrame(np.repeat(o.to_numpy()[:, None], len(fast), axis=1), c.index, cols)
        pf = vbt.Portfolio.from_signals(
            wide,
            entries.astype(bool),
            exits.astype(bool),
            price=price,
            fees=FEE_BPS / 1e4,
            slippage=SLIPPAGE_BPS / 1e4,
            # Returns are scale-free; vectorbt drops orders whose size is within its float
            # tolerance of zero, which a 1.0 account reaches after heavy losses.
            init_cash=1e9,
            freq="1min",
        )
        sharpe = pf.sharpe_ratio(year_freq="365 days").to_numpy()
        pf.total_return()
        pf.max_drawdown()
        return sharpe

    once(close.head(3000), open_.head(3000))  # compile vectorbt's numba functions first
    t0 = time.perf_counter()
    sharpe = once(close, open_)
    return sharpe, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", type=int, default=525_600)
    ap.add_argument("--combos", type=int, default=10_000)
    ap.add_argument("--vbt-combos", type=int, default=20)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    if args.bars < 2000 or args.combos < 1 or args.vbt_combos < 1:
        ap.error("need --bars >= 2000, --combos >= 1 and --vbt-combos >= 1")

    bars = synthetic_bars(args.bars, seed=args.seed)
    combos = grid_for(args.combos)
    if int(combos.get_column("slow").max()) >= args.bars:
        ap.error("the slow windows need more bars")
    results, elapsed, rss = run_project(bars, combos, args.threads)
    rate = combos.height / elapsed
    print(
        f"project : {combos.height} combinations x {args.bars} bars in {elapsed:.2f} s "
        f"= {rate:,.1f} combos/s (fees {FEE_BPS} bps + slippage {SLIPPAGE_BPS} bps, "
        f"{len(results.columns) - 2} metrics each); peak RSS {rss:.2f} GiB"
    )
    best = results.sort("sharpe", descending=True, nulls_last=True).row(0, named=True)
    print(f"project : best fast={best['fast']} slow={best['slow']} sharpe={best['sharpe']:.4f}")

    pick = np.unique(np.linspace(0, combos.height - 1, min(args.vbt_combos, combos.height)))
    subset = combos[pick.astype(np.int64)]
    try:
        vbt_sharpe, vbt_elapsed = run_vectorbt(bars, subset)
    except ImportError as exc:
        print(
            f"vectorbt: not installed ({exc}); install the bench extra: pip install -e '.[bench]'"
        )
        print(f"SUMMARY sweep {combos.height} combos {elapsed:.2f}s {rate:,.0f}/s rss {rss:.2f}GiB")
        return 1
    vbt_rate = subset.height / vbt_elapsed
    ours = results[pick.astype(np.int64)].get_column("sharpe").fill_null(np.nan).to_numpy()
    diff = float(np.nanmax(np.abs(ours - vbt_sharpe)))
    nan_mismatch = int(np.sum(np.isnan(ours) != np.isnan(vbt_sharpe)))
    print(
        f"vectorbt: {subset.height} combinations x {args.bars} bars in {vbt_elapsed:.2f} s "
        f"= {vbt_rate:,.2f} combos/s"
    )
    print(
        f"compare : {rate / vbt_rate:,.0f}x vectorbt's combos/s; max |Sharpe diff| on the "
        f"{subset.height} shared combinations = {diff:.3e} (NaN mismatches: {nan_mismatch})"
    )
    ok = elapsed <= 15 and rss <= 1.5 and rate / vbt_rate >= 200 and diff <= 1e-6
    print(
        f"SUMMARY sweep {combos.height} combos {elapsed:.2f}s {rate:,.0f}/s rss {rss:.2f}GiB | "
        f"vectorbt {vbt_rate:.2f}/s | {rate / vbt_rate:,.0f}x | max dSharpe {diff:.1e} | "
        f"targets {'met' if ok else 'NOT met'}"
    )
    return 0 if diff <= 1e-6 and nan_mismatch == 0 else 2


if __name__ == "__main__":
    sys.exit(main())
