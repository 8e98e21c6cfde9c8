"""Walk-forward analysis of the dual moving-average crossover.

Rolling folds: optimize on ``in_sample`` bars (a full sweep of the grid, best by Sharpe), then
trade the winner on the next ``out_of_sample`` bars; the window then moves by ``out_of_sample``.
Each out-of-sample fold starts flat; its averages are warmed up on the bars before it (only
past closes, as always), so no fold sees its own future. The out-of-sample returns are stitched
into one equity curve: the only performance figure of the procedure that is not in-sample.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from tardis_assets.lib.backtest.engine import run_actions
from tardis_assets.lib.backtest.inputs import BarArrays, prepare_bars
from tardis_assets.lib.backtest.metrics import compute_metrics
from tardis_assets.lib.backtest.params import DualMAParams, ExecutionParams
from tardis_assets.lib.backtest.strategies import dual_ma_actions
from tardis_assets.lib.backtest.sweep import run_sweep, top_n


def slice_bars(bars: BarArrays, start: int, stop: int) -> BarArrays:
    """Bars ``[start, stop)`` with the same annualization."""
    return replace(
        bars,
        bar_start_us=bars.bar_start_us[start:stop],
        open=bars.open[start:stop],
        high=bars.high[start:stop],
        low=bars.low[start:stop],
        close=bars.close[start:stop],
        half_spread_frac=bars.half_spread_frac[start:stop],
    )


@dataclass
class WalkForwardResult:
    """Folds (one row each), the stitched out-of-sample per-bar frame and its metrics."""

    folds: pl.DataFrame
    oos_per_bar: pl.DataFrame
    oos_metrics: dict[str, float]
    efficiency: float


def walk_forward_dual_ma(
    bars: pl.DataFrame | BarArrays,
    combos: pl.DataFrame,
    *,
    in_sample: int,
    out_of_sample: int,
    execution: ExecutionParams | None = None,
    metric: str = "sharpe",
    bars_per_year: float | None = None,
    n_threads: int | None = None,
) -> WalkForwardResult:
    """Rolling in-sample optimization / out-of-sample evaluation (see module docs).

    ``efficiency`` = mean out-of-sample Sharpe / mean in-sample Sharpe of the chosen params
    (near 1: the edge carries over; near or below 0: it was fitted noise).
    """
    execution = execution or ExecutionParams()
    arrays = bars if isinstance(bars, BarArrays) else prepare_bars(bars, bars_per_year)
    n = len(arrays)
    if in_sample < 2 or out_of_sample < 1:
        raise ValueError(
            f"in_sample must be >= 2 and out_of_sample >= 1 bars, got {in_sample}/{out_of_sample}"
        )
    if in_sample + out_of_sample > n:
        raise ValueError(
            f"not enough bars for one fold: {in_sample} + {out_of_sample} > {n} bars in the range"
        )
    max_slow = int(combos.get_column("slow").max())
    if max_slow >= in_sample:
        raise ValueError(f"slow window {max_slow} does not fit the in-sample window {in_sample}")
    rows = []
    pieces = []
    for fold, is_start in enumerate(range(0, n - in_sample - out_of_sample + 1, out_of_sample)):
        oos_start = is_start + in_sample
        oos_end = min(n, oos_start + out_of_sample)
        ins = slice_bars(arrays, is_start, oos_start)
        res = run_sweep(ins, combos, execution, n_threads=n_threads).results
        best = top_n(res, 1, by=metric).row(0, named=True)
        params = DualMAParams(
            fast=int(best["fast"]),
            slow=int(best["slow"]),
            holding_bars=execution.holding_bars,
            stop_loss=execution.stop_loss,
            take_profit=execution.take_profit,
            allow_short=execution.allow_short,
            position_size=execution.position_size,
            fee_bps=execution.fee_bps,
            slippage_bps=execution.slippage_bps,
        )
        warm = slice_bars(arrays, is_start, oos_end)
        actions = dual_ma_actions(warm.close, params)[oos_start - is_start :]
        oos = run_actions(
            slice_bars(arrays, oos_start, oos_end),
            actions,
            position_size=params.position_size,
            fee_bps=params.fee_bps,
            slippage_bps=params.slippage_bps,
            stop_loss=params.stop_loss,
            take_profit=params.take_profit,
            holding_bars=params.holding_bars,
            allow_short=params.allow_short,
        )
        rows.append(
            {
                "fold": fold,
                "is_start": ins.bar_start_us[0],
                "oos_start": int(arrays.bar_start_us[oos_start]),
                "oos_end": int(arrays.bar_start_us[oos_end - 1]),
                "fast": params.fast,
                "slow": params.slow,
                "is_sharpe": best["sharpe"],
                "oos_sharpe": oos.metrics["sharpe"],
                "oos_total_return": oos.metrics["total_return"],
                "oos_trades": oos.n_trades,
            }
        )
        pieces.append(oos.per_bar.with_columns(pl.lit(fold).alias("fold")))
    per_bar = pl.concat(pieces)
    net = per_bar.get_column("net_return").to_numpy()
    per_bar = per_bar.with_columns(pl.Series("equity", np.cumprod(1.0 + net)))
    metrics = compute_metrics(net, per_bar.get_column("position").to_numpy(), arrays.bars_per_year)
    folds = pl.DataFrame(rows).with_columns(
        pl.col("is_start", "oos_start", "oos_end").cast(pl.Datetime("us", "UTC"))
    )
    is_mean = folds.get_column("is_sharpe").fill_null(0.0).mean()
    oos_mean = folds.get_column("oos_sharpe").fill_nan(0.0).fill_null(0.0).mean()
    efficiency = float(oos_mean / is_mean) if is_mean else float("nan")
    return WalkForwardResult(folds, per_bar, metrics, efficiency)
