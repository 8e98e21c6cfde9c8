"""Risk layer: Monte Carlo of the LLM strategy's daily backtests over the configured range."""

import dagster as dg

from tardis_assets.defs.backtest.assets import default_strategy_run_id
from tardis_assets.defs.backtest.ranges import RangeConfig, resolve_instrument
from tardis_assets.defs.resources import WarehouseResource
from tardis_assets.defs.support.failures import RETRY, expected_failures
from tardis_assets.defs.support.range_report import range_report, report_result
from tardis_assets.lib.errors import MissingInputError


class RiskConfig(RangeConfig):
    """Stationary block bootstrap of per-bar returns: paths, horizon (bars), block, ruin floor."""

    n_paths: int = 2000
    horizon_bars: int = 1440
    mean_block_bars: float = 60.0
    drawdown_floor: float = 0.2
    seed: int = 0


@dg.asset(
    deps=["backtest_results"],
    group_name="risk",
    kinds={"numpy", "parquet"},
    retry_policy=RETRY,
    description=(
        "Monte Carlo risk of the default LLM strategy over the configured range: VaR and CVaR at "
        "95/99%, probability of a drawdown beyond the floor within the horizon, and equity "
        "percentile bands (tables risk_summary, risk_bands; fan chart in metadata)."
    ),
)
def risk_report(
    context: dg.AssetExecutionContext, config: RiskConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    from tardis_assets.lib.backtest.reports import monte_carlo_risk_report

    with expected_failures("risk_report"):
        wh = warehouse.warehouse()
        strategy_run = default_strategy_run_id()
        if not wh.table_exists("backtest_per_bar"):
            raise MissingInputError(
                "no backtests yet", remedy="Materialize backtest_results first."
            )
        # One account: one instrument's return series (the configured one, else the first).
        exchange, symbol = resolve_instrument(wh, config)
        clauses = ["run_id = ?", "exchange = ?", "symbol = ?"]
        params: list[object] = [strategy_run, exchange, symbol]
        for clause, value in (("date >= ?", config.start), ("date <= ?", config.end)):
            if value:
                clauses.append(clause)
                params.append(value)
        per_bar = wh.read(
            f"SELECT * FROM backtest_per_bar WHERE {' AND '.join(clauses)} ORDER BY bar_start",
            params,
        )
        if per_bar.is_empty():
            raise MissingInputError(
                f"no backtest rows of the default strategy for {exchange}:{symbol} "
                f"between {config.start or 'the first'} and {config.end or 'the last'} day",
                remedy="Materialize backtest_results for those days first.",
            )
        run_id = config.key(asset="risk_report", strategy=strategy_run)
        label = f"{exchange}:{symbol} {per_bar['date'].min()}..{per_bar['date'].max()}"
        report = range_report(
            wh,
            label=label,
            run_id=run_id,
            compute=lambda: monte_carlo_risk_report(
                per_bar,
                run_id=run_id,
                n_paths=config.n_paths,
                horizon=config.horizon_bars,
                mean_block=config.mean_block_bars,
                drawdown_floor=config.drawdown_floor,
                seed=config.seed,
            ),
        )
        context.log.info(f"risk over {label}: {per_bar.height} bars")
        return report_result(report, label, ("fan_chart", "Monte Carlo equity bands"))
