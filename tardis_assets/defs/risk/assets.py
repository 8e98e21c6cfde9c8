"""Risk layer: Monte Carlo of the LLM strategy's daily backtests over the configured range."""

import dagster as dg

from tardis_assets.defs.backtest.assets import (
    StrategyConfig,
    plain_metadata,
    png_markdown,
    run_id_of,
)
from tardis_assets.defs.backtest.optimization import store
from tardis_assets.defs.backtest.ranges import RangeConfig, resolve_instrument
from tardis_assets.defs.common import DUCKDB_POOL, RETRY
from tardis_assets.defs.resources import WarehouseResource
from tardis_assets.lib.backtest.reports import risk_report as monte_carlo_report


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
    kinds={"numpy", "duckdb"},
    pool=DUCKDB_POOL,
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
    wh = warehouse.warehouse()
    strategy_run = run_id_of(StrategyConfig().params())
    if not wh.table_exists("backtest_per_bar"):
        raise dg.Failure(
            "no backtests yet: materialize backtest_results first", allow_retries=False
        )
    # One account: one instrument's return series (the configured one, else the first stored).
    exchange, symbol = resolve_instrument(wh, config)
    clauses = ["run_id = ?", "exchange = ?", "symbol = ?"]
    params: list[object] = [strategy_run, exchange, symbol]
    for clause, value in (("date >= ?", config.start), ("date <= ?", config.end)):
        if value:
            clauses.append(clause)
            params.append(value)
    per_bar = wh.read(
        f"SELECT * FROM backtest_per_bar WHERE {' AND '.join(clauses)} ORDER BY bar_start", params
    )
    if per_bar.is_empty():
        raise dg.Failure(f"no backtest rows for {config.model_dump()}", allow_retries=False)
    run_id = config.key(asset="risk_report", strategy=strategy_run)
    label = f"{exchange}:{symbol} {per_bar['date'].min()}..{per_bar['date'].max()}"
    try:
        report = monte_carlo_report(
            per_bar,
            run_id=run_id,
            n_paths=config.n_paths,
            horizon=config.horizon_bars,
            mean_block=config.mean_block_bars,
            drawdown_floor=config.drawdown_floor,
            seed=config.seed,
        )
    except ValueError as exc:
        raise dg.Failure(str(exc), allow_retries=False) from exc
    store(wh, report, run_id, label)
    context.log.info(f"risk over {label}: {per_bar.height} bars")
    return dg.MaterializeResult(
        metadata={
            "range": dg.MetadataValue.text(label),
            **plain_metadata(report.metadata),
            "fan_chart": png_markdown(report, "Monte Carlo equity bands"),
        }
    )
