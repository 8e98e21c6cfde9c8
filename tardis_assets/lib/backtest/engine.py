"""Single backtests: bars + strategy params -> per-bar frame, metrics and trade count."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import polars as pl

from tardis_assets.lib.backtest import kernel
from tardis_assets.lib.backtest.alignment import align_signals
from tardis_assets.lib.backtest.inputs import BarArrays, prepare_bars
from tardis_assets.lib.backtest.metrics import METRIC_NAMES, finalize_stats
from tardis_assets.lib.backtest.params import DualMAParams, LLMStrategyParams
from tardis_assets.lib.backtest.strategies import dual_ma_actions, llm_actions


@dataclass
class BacktestResult:
    """Outcome of one backtest.

    ``per_bar`` columns: bar_start, position (signed fraction of equity held during the bar),
    gross_return (net_return + cost), cost (fees, slippage and spread paid in the bar, as a
    fraction of the previous bar's equity), net_return (close-to-close equity change), equity
    (marked at the bar's close, starting from 1.0). The LLM strategy adds
    signal_available_at: when the newest signal in effect at the bar became known.
    """

    per_bar: pl.DataFrame
    metrics: dict[str, float]
    n_trades: int


def run_actions(
    bars: BarArrays,
    actions: np.ndarray,
    *,
    position_size: float,
    fee_bps: float,
    slippage_bps: float,
    stop_loss: float,
    take_profit: float,
    holding_bars: int,
    allow_short: bool,
) -> BacktestResult:
    """Execute a strategy's action array on prepared bars with the shared kernel."""
    n = len(bars)
    if actions.shape != (n,):
        raise ValueError(f"actions has shape {actions.shape}, expected ({n},)")
    cost_frac = slippage_bps / 1e4 + bars.half_spread_frac
    out = np.empty((5, n))
    state = kernel.simulate(
        bars.open,
        bars.close,
        np.ascontiguousarray(cost_frac),
        np.ascontiguousarray(actions, dtype=np.int8),
        float(position_size),
        fee_bps / 1e4,
        float(stop_loss),
        float(take_profit),
        int(holding_bars),
        bool(allow_short),
        out,
    )
    pos, gross, cost, net, equity = out
    cols = finalize_stats(state[None, :], bars.bars_per_year)
    metrics = {name: float(cols[name][0]) for name in METRIC_NAMES}
    metrics["total_cost"] = float(state[kernel.S_COST])
    per_bar = pl.DataFrame(
        {
            "bar_start": pl.Series(bars.bar_start_us, dtype=pl.Int64).cast(
                pl.Datetime("us", "UTC")
            ),
            "position": pos,
            "gross_return": gross,
            "cost": cost,
            "net_return": net,
            "equity": equity,
        }
    )
    return BacktestResult(per_bar=per_bar, metrics=metrics, n_trades=int(state[kernel.S_NTRADES]))


def run_llm_strategy(
    bars: pl.DataFrame,
    signals: pl.DataFrame,
    params: LLMStrategyParams,
    bars_per_year: float | None = None,
) -> BacktestResult:
    """Backtest the LLM-signal strategy.

    Each signal is traded from the first bar whose ``bar_start >= available_at`` (and never in
    the bar that produced it), filled at that bar's open; see `kernel` for costs and marking.
    ``bars_per_year`` defaults to 365 days over the median bar spacing.
    """
    if not isinstance(params, LLMStrategyParams):
        raise TypeError(f"params must be LLMStrategyParams, got {type(params).__name__}")
    arrays = prepare_bars(bars, bars_per_year)
    aligned = align_signals(arrays.bar_start_us, signals, params.min_confidence)
    result = run_actions(
        arrays, llm_actions(aligned, params), **dataclasses.asdict(params.execution())
    )
    # Per bar, when the newest signal behind its decision became known (null: no signal yet).
    known = pl.Series("signal_available_at", aligned["available_at"]).fill_nan(None)
    result.per_bar = result.per_bar.with_columns(
        known.cast(pl.Int64).cast(pl.Datetime("us", "UTC"))
    )
    return result


def run_dual_ma(
    bars: pl.DataFrame, params: DualMAParams, bars_per_year: float | None = None
) -> BacktestResult:
    """Backtest the dual moving-average crossover on closes (acted on at the next open)."""
    if not isinstance(params, DualMAParams):
        raise TypeError(f"params must be DualMAParams, got {type(params).__name__}")
    arrays = prepare_bars(bars, bars_per_year)
    return run_actions(
        arrays, dual_ma_actions(arrays.close, params), **dataclasses.asdict(params.execution())
    )
