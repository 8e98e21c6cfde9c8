"""Backtesting: numba kernel, strategies, metrics, sweeps, overfitting controls, Monte Carlo.

Import the public API from here; the submodules are the implementation.
"""

from tardis_assets.lib.backtest.engine import (
    BacktestResult,
    run_actions,
    run_dual_ma,
    run_llm_strategy,
)
from tardis_assets.lib.backtest.inputs import BarArrays, prepare_bars
from tardis_assets.lib.backtest.llm_sweep import llm_param_grid, llm_param_random, sweep_llm
from tardis_assets.lib.backtest.metrics import MINUTES_PER_YEAR, compute_metrics
from tardis_assets.lib.backtest.monte_carlo import MonteCarloResult, bootstrap, var_cvar
from tardis_assets.lib.backtest.overfitting import (
    DeflatedSharpe,
    PBOResult,
    deflated_sharpe_from_trials,
    deflated_sharpe_ratio,
    pbo_cscv,
    pbo_from_returns,
    probabilistic_sharpe_ratio,
)
from tardis_assets.lib.backtest.reports import (
    AssetReport,
    backtest_report,
    llm_optimization_report,
    monte_carlo_risk_report,
    optimization_report,
    params_hash,
    walk_forward_report,
)
from tardis_assets.lib.backtest.strategies import DualMAParams, ExecutionParams, LLMStrategyParams
from tardis_assets.lib.backtest.sweep import (
    SweepOutput,
    dual_ma_grid,
    dual_ma_random,
    run_sweep,
    sweep_dual_ma,
    top_n,
)
from tardis_assets.lib.backtest.walk_forward import WalkForwardResult, walk_forward_dual_ma

__all__ = [
    "MINUTES_PER_YEAR",
    "AssetReport",
    "BacktestResult",
    "BarArrays",
    "DeflatedSharpe",
    "DualMAParams",
    "ExecutionParams",
    "LLMStrategyParams",
    "MonteCarloResult",
    "PBOResult",
    "SweepOutput",
    "WalkForwardResult",
    "backtest_report",
    "bootstrap",
    "compute_metrics",
    "deflated_sharpe_from_trials",
    "deflated_sharpe_ratio",
    "dual_ma_grid",
    "dual_ma_random",
    "llm_optimization_report",
    "llm_param_grid",
    "llm_param_random",
    "monte_carlo_risk_report",
    "optimization_report",
    "params_hash",
    "pbo_cscv",
    "pbo_from_returns",
    "prepare_bars",
    "probabilistic_sharpe_ratio",
    "run_actions",
    "run_dual_ma",
    "run_llm_strategy",
    "run_sweep",
    "sweep_dual_ma",
    "sweep_llm",
    "top_n",
    "var_cvar",
    "walk_forward_dual_ma",
    "walk_forward_report",
]
