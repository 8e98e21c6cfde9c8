"""Range-level research assets: parameter sweeps with overfitting controls, and walk-forward."""

from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from tardis_assets.defs.backtest.ranges import RangeConfig, load_range, resolve_instrument
from tardis_assets.defs.resources import LLMResource, MarketResource, WarehouseResource
from tardis_assets.defs.support.failures import RETRY, expected_failures
from tardis_assets.defs.support.metadata import plain_metadata
from tardis_assets.defs.support.params_config import params_config
from tardis_assets.defs.support.range_report import range_report, report_result
from tardis_assets.lib.backtest import ExecutionParams, LLMStrategyParams
from tardis_assets.lib.errors import MissingInputError
from tardis_assets.lib.execution import ExecutionConfig

if TYPE_CHECKING:
    import polars as pl

    from tardis_assets.lib.backtest.reports import AssetReport
    from tardis_assets.lib.warehouse import Warehouse

_RangeExecution = params_config(
    "RangeExecutionConfig",
    ExecutionParams,
    "A range plus the execution settings every combination shares (fields: ExecutionParams).",
    base=RangeConfig,
)


class DualMAGridConfig(_RangeExecution):  # type: ignore[misc, valid-type]
    """Fast/slow moving-average windows (inclusive ranges with steps) and the execution."""

    fast_min: int = 2
    fast_max: int = 101
    fast_step: int = 1
    slow_min: int = 110
    slow_max: int = 437
    slow_step: int = 3

    def fast(self) -> range:
        return range(self.fast_min, self.fast_max + 1, self.fast_step)

    def slow(self) -> range:
        return range(self.slow_min, self.slow_max + 1, self.slow_step)

    def execution(self) -> ExecutionParams:
        return self.params()


class SweepConfig(DualMAGridConfig):
    """The grid (default 100 x 110 = 11,000 combinations) plus seeded random search."""

    n_random: int = 0
    seed: int = 0
    cscv_splits: int = 16


def _sweep_top(report) -> dict[str, dg.MetadataValue]:
    return {"top": dg.MetadataValue.md(str(report.metadata.get("top_n_markdown", "")))}


@dg.asset(
    deps=["bars"],
    group_name="research",
    kinds={"numba", "parquet"},
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
    from tardis_assets.lib.backtest.reports import optimization_report

    with expected_failures("strategy_optimization"):
        wh = warehouse.warehouse()
        bars, _, label = load_range(wh, config)
        report = range_report(
            wh,
            label=label,
            run_id=config.key(asset="strategy_optimization"),
            compute=lambda: optimization_report(
                bars,
                fast=config.fast(),
                slow=config.slow(),
                n_random=config.n_random,
                random_fast=(config.fast_min, config.fast_max) if config.n_random else None,
                random_slow=(config.slow_min, config.slow_max) if config.n_random else None,
                seed=config.seed,
                execution=config.execution(),
                cscv_splits=config.cscv_splits,
                run_id=config.key(asset="strategy_optimization"),
            ),
        )
        context.log.info(f"{label}: {report.metadata.get('n_combinations')} combinations")
        return report_result(
            report,
            label,
            ("sharpe_heatmap", "Sharpe by fast/slow window"),
            _sweep_top(report),
            skip=("top_n_markdown",),
        )


class LLMSweepConfig(RangeConfig):
    """Grid over the LLM strategy's thresholds, weights and holding period (every other
    parameter at the daily strategy's default)."""

    entry_threshold: list[float] = Field(default_factory=lambda: [0.3, 0.5, 0.7, 0.9])
    w_pattern: list[float] = Field(default_factory=lambda: [0.0, 0.1, 0.2, 0.4])
    min_confidence: list[float] = Field(default_factory=lambda: [0.2, 0.3, 0.5])
    holding_bars: list[int] = Field(default_factory=lambda: [5, 10, 15, 30, 60])
    max_risk: list[float] = Field(default_factory=lambda: [0.5, 0.8, 1.0])
    cscv_splits: int = 16
    bar_vs_tick_top: int = Field(
        default=3,
        description="the best N combinations replayed at tick level beside the bar engine "
        "(0: off); the gap is the price of the bar approximation",
    )

    def grid(self) -> dict[str, list]:
        return {
            "entry_threshold": self.entry_threshold,
            "w_pattern": self.w_pattern,
            "min_confidence": self.min_confidence,
            "holding_bars": self.holding_bars,
            "max_risk": self.max_risk,
        }


@dg.asset(
    deps=["bars", "llm_signals"],
    group_name="research",
    kinds={"numba", "parquet"},
    retry_policy=RETRY,
    description=(
        "Grid over the LLM-signal strategy's parameters on the configured range, with the same "
        "honesty rules as the daily backtest; deflated Sharpe and PBO beside the best Sharpe."
    ),
)
def llm_strategy_optimization(
    context: dg.AssetExecutionContext,
    config: LLMSweepConfig,
    market: MarketResource,
    llm: LLMResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    import polars as pl

    from tardis_assets.lib.backtest.reports import llm_optimization_report
    from tardis_assets.lib.execution import gap_metadata
    from tardis_assets.lib.execution.tables import BAR_VS_TICK

    with expected_failures("llm_strategy_optimization"):
        wh = warehouse.warehouse()
        bars, signals, label = load_range(wh, config)
        if signals.is_empty():
            raise MissingInputError(
                f"{label}: no LLM signals", remedy="Materialize llm_signals for the range first."
            )
        run_id = config.key(asset="llm_strategy_optimization")
        report = range_report(
            wh,
            label=label,
            run_id=run_id,
            prefix="llm_",
            compute=lambda: llm_optimization_report(
                bars, signals, grid=config.grid(), cscv_splits=config.cscv_splits, run_id=run_id
            ),
        )
        context.log.info(f"{label}: {report.metadata.get('n_combinations')} combinations")
        extra = _sweep_top(report)
        if config.bar_vs_tick_top > 0:
            gaps = _bar_vs_tick(wh, config, report, bars, signals, market, llm)
            wh.write(BAR_VS_TICK, {"run_id": run_id}, gaps.with_columns(run_id=pl.lit(run_id)))
            meta = gap_metadata(gaps)
            extra["bar_vs_tick"] = dg.MetadataValue.md(str(meta.pop("bar_vs_tick_markdown")))
            extra.update(plain_metadata(meta))
        return report_result(
            report,
            label,
            ("sharpe_heatmap", "Sharpe of the top two parameters"),
            extra,
            skip=("top_n_markdown",),
        )


def _bar_vs_tick(
    wh: "Warehouse",
    config: LLMSweepConfig,
    report: "AssetReport",
    bars: "pl.DataFrame",
    signals: "pl.DataFrame",
    market: MarketResource,
    llm: LLMResource,
) -> "pl.DataFrame":
    """The best combinations replayed at tick level beside their bar backtest."""
    from tardis_assets.lib.execution import lake_market, params_from_rows
    from tardis_assets.lib.execution.bar_vs_tick import bar_vs_tick

    exchange, symbol = resolve_instrument(wh, config)
    days = sorted(set(bars["date"].to_list()))
    try:
        data = lake_market(wh.lake.root, exchange, symbol, days)
    except ValueError as exc:
        raise MissingInputError(
            f"no ticks of {exchange}:{symbol} for the tick replay of the best combinations: {exc}",
            remedy="Materialize the raw layers for the range, or set bar_vs_tick_top to 0.",
        ) from exc
    top = report.tables["optimization_top"].head(config.bar_vs_tick_top)
    engine = ExecutionConfig(bar_seconds=market.bar_seconds, window_seconds=llm.window_minutes * 60)
    return bar_vs_tick(bars, signals, params_from_rows(top, LLMStrategyParams()), data, engine)


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
    kinds={"numba", "parquet"},
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
    from tardis_assets.lib.backtest.reports import walk_forward_report

    with expected_failures("walk_forward"):
        wh = warehouse.warehouse()
        bars, _, label = load_range(wh, config)
        run_id = config.key(asset="walk_forward")
        report = range_report(
            wh,
            label=label,
            run_id=run_id,
            compute=lambda: walk_forward_report(
                bars,
                fast=config.fast(),
                slow=config.slow(),
                in_sample=config.in_sample_bars,
                out_of_sample=config.out_of_sample_bars,
                execution=config.execution(),
                run_id=run_id,
            ),
        )
        context.log.info(f"{label}: walk-forward done")
        return report_result(report, label, ("oos_equity", "stitched out-of-sample equity"))
