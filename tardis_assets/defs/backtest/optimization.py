"""Range-level research assets: parameter sweeps with overfitting controls, and walk-forward."""

import dagster as dg
import polars as pl
from pydantic import Field

from tardis_assets.defs.backtest.assets import StrategyConfig, plain_metadata, png_markdown
from tardis_assets.defs.backtest.ranges import RangeConfig, load_range
from tardis_assets.defs.common import DUCKDB_POOL, RETRY
from tardis_assets.defs.resources import WarehouseResource
from tardis_assets.lib.backtest import ExecutionParams
from tardis_assets.lib.backtest.reports import (
    AssetReport,
    backtest_report,
    llm_optimization_report,
    optimization_report,
    walk_forward_report,
)
from tardis_assets.lib.warehouse import PartitionWrite, Warehouse


def store(wh: Warehouse, report: AssetReport, run_id: str, label: str, prefix: str = "") -> None:
    """Replace this run's rows in every table of the report, in one transaction.

    ``prefix`` keeps reports with different columns apart (the LLM sweep's parameters are not
    the moving-average sweep's)."""
    wh.write(
        *(
            PartitionWrite(
                prefix + name,
                frame.with_columns(pl.lit(label).alias("range")),
                "run_id = ?",
                (run_id,),
                None,
            )
            for name, frame in report.tables.items()
        )
    )


def sweep_result(
    context: dg.AssetExecutionContext, report: AssetReport, label: str, chart: str
) -> dg.MaterializeResult:
    """Metadata of a sweep: numbers (best Sharpe, DSR, PBO, speed), the top-N table, a heatmap."""
    context.log.info(f"{label}: {report.metadata.get('n_combinations')} combinations")
    numbers = {k: v for k, v in report.metadata.items() if k != "top_n_markdown"}
    return dg.MaterializeResult(
        metadata={
            "range": dg.MetadataValue.text(label),
            **plain_metadata(numbers),
            "top": dg.MetadataValue.md(str(report.metadata.get("top_n_markdown", ""))),
            "sharpe_heatmap": png_markdown(report, chart),
        }
    )


class DualMAGridConfig(RangeConfig):
    """Fast/slow moving-average windows (inclusive ranges with steps) and costs in bps."""

    fast_min: int = 2
    fast_max: int = 101
    fast_step: int = 1
    slow_min: int = 110
    slow_max: int = 437
    slow_step: int = 3
    fee_bps: float = 5.0
    slippage_bps: float = 1.0

    def fast(self) -> range:
        return range(self.fast_min, self.fast_max + 1, self.fast_step)

    def slow(self) -> range:
        return range(self.slow_min, self.slow_max + 1, self.slow_step)

    def execution(self) -> ExecutionParams:
        return ExecutionParams(fee_bps=self.fee_bps, slippage_bps=self.slippage_bps)


class SweepConfig(DualMAGridConfig):
    """The grid (default 100 x 110 = 11,000 combinations) plus seeded random search."""

    n_random: int = 0
    seed: int = 0
    cscv_splits: int = 16


@dg.asset(
    deps=["bars"],
    group_name="research",
    kinds={"numba", "duckdb"},
    pool=DUCKDB_POOL,
    retry_policy=RETRY,
    description=(
        "Dual moving-average sweep over the configured range (default 100 x 110 = 11,000 "
        "combinations) with fees: every combination's metrics in optimization_results, the best "
        "in optimization_top, and beside the best Sharpe its deflated Sharpe (N = all trials) and "
        "the probability of backtest overfitting (CSCV, S=16)."
    ),
)
def strategy_optimization(
    context: dg.AssetExecutionContext, config: SweepConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    wh = warehouse.warehouse()
    bars, _, label = load_range(wh, config)
    run_id = config.key(asset="strategy_optimization")
    try:
        report = optimization_report(
            bars,
            fast=config.fast(),
            slow=config.slow(),
            n_random=config.n_random,
            random_fast=(config.fast_min, config.fast_max) if config.n_random else None,
            random_slow=(config.slow_min, config.slow_max) if config.n_random else None,
            seed=config.seed,
            execution=config.execution(),
            cscv_splits=config.cscv_splits,
            run_id=run_id,
        )
    except ValueError as exc:
        raise dg.Failure(f"{label}: {exc}", allow_retries=False) from exc
    store(wh, report, run_id, label)
    return sweep_result(context, report, label, "Sharpe by fast/slow window")


class LLMSweepConfig(RangeConfig):
    """Grid over the LLM strategy's thresholds, weights and holding period."""

    entry_threshold: list[float] = Field(default_factory=lambda: [0.3, 0.5, 0.7, 0.9])
    w_pattern: list[float] = Field(default_factory=lambda: [0.0, 0.1, 0.2, 0.4])
    min_confidence: list[float] = Field(default_factory=lambda: [0.2, 0.3, 0.5])
    holding_bars: list[int] = Field(default_factory=lambda: [5, 10, 15, 30, 60])
    max_risk: list[float] = Field(default_factory=lambda: [0.5, 0.8, 1.0])
    cscv_splits: int = 16


@dg.asset(
    deps=["bars", "llm_signals"],
    group_name="research",
    kinds={"numba", "duckdb"},
    pool=DUCKDB_POOL,
    retry_policy=RETRY,
    description=(
        "Grid over the LLM-signal strategy's parameters on the configured range, with the same "
        "honesty rules as the daily backtest; deflated Sharpe and PBO beside the best Sharpe."
    ),
)
def llm_strategy_optimization(
    context: dg.AssetExecutionContext, config: LLMSweepConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    wh = warehouse.warehouse()
    bars, signals, label = load_range(wh, config)
    if signals.is_empty():
        raise dg.Failure(
            f"{label}: no LLM signals; materialize llm_signals first", allow_retries=False
        )
    grid = {
        "entry_threshold": config.entry_threshold,
        "w_pattern": config.w_pattern,
        "min_confidence": config.min_confidence,
        "holding_bars": config.holding_bars,
        "max_risk": config.max_risk,
    }
    run_id = config.key(asset="llm_strategy_optimization")
    try:
        report = llm_optimization_report(
            bars, signals, grid=grid, cscv_splits=config.cscv_splits, run_id=run_id
        )
    except ValueError as exc:
        raise dg.Failure(f"{label}: {exc}", allow_retries=False) from exc
    store(wh, report, run_id, label, prefix="llm_")
    return sweep_result(context, report, label, "Sharpe of the top two parameters")


class WalkForwardConfig(DualMAGridConfig):
    """Rolling in-sample optimization / out-of-sample evaluation of the dual MA crossover, on a
    coarser grid than the sweep (each fold re-optimizes)."""

    fast_min: int = 5
    fast_max: int = 60
    fast_step: int = 5
    slow_min: int = 80
    slow_max: int = 400
    slow_step: int = 40
    in_sample_bars: int = 720
    out_of_sample_bars: int = 240


@dg.asset(
    deps=["bars"],
    group_name="research",
    kinds={"numba", "duckdb"},
    pool=DUCKDB_POOL,
    retry_policy=RETRY,
    description=(
        "Walk-forward of the dual MA crossover over the configured range: each fold optimizes "
        "in-sample and trades the next out-of-sample block; stitched OOS equity in "
        "walk_forward_oos, folds in walk_forward_folds."
    ),
)
def walk_forward(
    context: dg.AssetExecutionContext, config: WalkForwardConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    wh = warehouse.warehouse()
    bars, _, label = load_range(wh, config)
    run_id = config.key(asset="walk_forward")
    try:
        report = walk_forward_report(
            bars,
            fast=config.fast(),
            slow=config.slow(),
            in_sample=config.in_sample_bars,
            out_of_sample=config.out_of_sample_bars,
            execution=config.execution(),
            run_id=run_id,
        )
    except ValueError as exc:
        raise dg.Failure(f"{label}: {exc}", allow_retries=False) from exc
    store(wh, report, run_id, label)
    context.log.info(f"{label}: walk-forward done")
    return dg.MaterializeResult(
        metadata={
            "range": dg.MetadataValue.text(label),
            **plain_metadata(report.metadata),
            "oos_equity": png_markdown(report, "stitched out-of-sample equity"),
        }
    )


class RangeBacktestConfig(RangeConfig):
    """The configured range traded as one continuous backtest with the daily strategy's params."""

    strategy: StrategyConfig = Field(default_factory=StrategyConfig)


@dg.asset(
    deps=["bars", "llm_signals"],
    group_name="backtest",
    kinds={"numba", "duckdb"},
    pool=DUCKDB_POOL,
    retry_policy=RETRY,
    description=(
        "The LLM-signal strategy over the configured range as one continuous run (positions "
        "carry across midnight, unlike the daily backtests): tables range_backtest_per_bar and "
        "range_backtest_summary, equity and drawdown chart in metadata."
    ),
)
def backtest_range(
    context: dg.AssetExecutionContext, config: RangeBacktestConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    wh = warehouse.warehouse()
    bars, signals, label = load_range(wh, config)
    params = config.strategy.params()
    run_id = config.key(asset="backtest_range")
    try:
        report = backtest_report(bars, signals, params, run_id=run_id)
    except ValueError as exc:
        raise dg.Failure(f"{label}: {exc}", allow_retries=False) from exc
    store(wh, report, run_id, label, prefix="range_")
    context.log.info(f"{label}: {report.metadata.get('n_trades')} trades")
    return dg.MaterializeResult(
        metadata={
            "range": dg.MetadataValue.text(label),
            **plain_metadata(report.metadata),
            "equity_curve": png_markdown(report, "equity and drawdown"),
        }
    )
