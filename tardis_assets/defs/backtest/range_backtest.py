"""The LLM-signal strategy over a configured range as one continuous backtest."""

import dagster as dg
from pydantic import Field

from tardis_assets.defs.backtest.assets import StrategyConfig
from tardis_assets.defs.backtest.ranges import RangeConfig, load_range
from tardis_assets.defs.resources import WarehouseResource
from tardis_assets.defs.support.failures import RETRY, expected_failures
from tardis_assets.defs.support.range_report import range_report, report_result


class RangeBacktestConfig(RangeConfig):
    """The configured range traded as one continuous backtest with the daily strategy's params."""

    strategy: StrategyConfig = Field(default_factory=StrategyConfig)  # type: ignore[valid-type]


@dg.asset(
    deps=["bars", "llm_signals"],
    group_name="backtest",
    kinds={"numba", "parquet"},
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
    from tardis_assets.lib.backtest.reports import backtest_report

    with expected_failures("backtest_range"):
        wh = warehouse.warehouse()
        bars, signals, label = load_range(wh, config)
        params = config.strategy.params()
        run_id = config.key(asset="backtest_range")
        report = range_report(
            wh,
            label=label,
            run_id=run_id,
            prefix="range_",
            compute=lambda: backtest_report(bars, signals, params, run_id=run_id),
        )
        context.log.info(f"{label}: {report.metadata.get('n_trades')} trades")
        return report_result(report, label, ("equity_curve", "equity and drawdown"))
