"""Execution layer: the LLM strategy as orders against the replayed ticks and book, per day and
over a range, and what the model's latency is worth.

The bar backtest fills at the open of the first bar after a signal; these assets replay every
trade, quote and book update instead: a decision at the signal's own ``available_at`` (window end
plus the model's measured latency), orders that reach the exchange after an entry latency and
walk the book or queue behind it, fees from the fee table, funding at its timestamps. The
engine is ``lib/execution``; these assets only load, call and store.
"""

import hashlib
import json
from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from tardis_assets.defs.backtest.assets import StrategyConfig
from tardis_assets.defs.backtest.ranges import RangeConfig, load_range, resolve_instrument
from tardis_assets.defs.partitions import by_date, daily
from tardis_assets.defs.resources import LLMResource, MarketResource, WarehouseResource
from tardis_assets.defs.support.context import day_of
from tardis_assets.defs.support.failures import RETRY, expected_failures
from tardis_assets.defs.support.metadata import plain_metadata, png_markdown
from tardis_assets.defs.support.params_config import params_config
from tardis_assets.defs.support.range_report import report_result
from tardis_assets.lib.backtest import LLMStrategyParams
from tardis_assets.lib.errors import BadInputError, MissingInputError
from tardis_assets.lib.execution import MODEL_LATENCIES_MS, ORDER_LATENCIES_MS, ExecutionConfig
from tardis_assets.lib.llm import KINDS

if TYPE_CHECKING:
    import polars as pl

    from tardis_assets.lib.warehouse import Warehouse

ExecutionSettings = params_config(
    "ExecutionSettings",
    ExecutionConfig,
    "How orders meet the replayed market (fields and defaults: lib/execution/config.py).",
    exclude=("bar_seconds", "window_seconds"),  # the market's bar and the signals' window
)


class ExecutionRunConfig(dg.Config):
    """The strategy (the daily backtest's parameters) and how its orders are executed."""

    strategy: StrategyConfig = Field(default_factory=StrategyConfig)  # type: ignore[valid-type]
    execution: ExecutionSettings = Field(default_factory=ExecutionSettings)  # type: ignore[valid-type]

    def params(self) -> LLMStrategyParams:
        return self.strategy.params()  # type: ignore[attr-defined]

    def engine_config(self, market: MarketResource, llm: LLMResource) -> ExecutionConfig:
        return self.execution.params(  # type: ignore[attr-defined]
            bar_seconds=market.bar_seconds, window_seconds=llm.window_minutes * 60
        )


def execution_run_id(params: LLMStrategyParams, config: ExecutionConfig) -> str:
    """Same strategy and execution settings, same id: re-runs replace their rows."""
    payload = json.dumps({"params": asdict(params), "config": asdict(config)}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def default_execution_run_id(bar_seconds: int = 60, window_seconds: int = 60) -> str:
    """The run id of the daily replay with default settings (what summaries report)."""
    config = ExecutionConfig(bar_seconds=bar_seconds, window_seconds=window_seconds)
    return execution_run_id(LLMStrategyParams(), config)


def _signals(wh: "Warehouse", days: list[date], exchange: str, symbol: str) -> "pl.DataFrame":
    import polars as pl

    from tardis_assets.lib.signals import LLM_SIGNALS

    rows = wh.read_partitions(LLM_SIGNALS, ({"date": d, "kind": k} for d in days for k in KINDS))
    return rows.filter((pl.col("exchange") == exchange) & (pl.col("symbol") == symbol))


class ExecutionRangeConfig(RangeConfig, ExecutionRunConfig):
    """A range of stored days of one instrument, replayed as one continuous run."""


class LatencyStudyConfig(RangeConfig, ExecutionRunConfig):
    """The model latencies (ms; null for the measured one) and the order latencies (ms)."""

    model_latencies_ms: list[float | None] = Field(default_factory=lambda: list(MODEL_LATENCIES_MS))
    order_latencies_ms: list[float] = Field(default_factory=lambda: list(ORDER_LATENCIES_MS))


def build_execution_assets(raw_types: tuple[str, ...]) -> list[dg.AssetsDefinition]:
    """The daily replay, the range replay and the latency study (they read the raw lake)."""
    raw_deps = [f"raw_{t}" for t in raw_types]

    @dg.asset(
        partitions_def=daily,
        deps=[*raw_deps, dg.AssetDep("llm_signals", partition_mapping=by_date)],
        group_name="execution",
        kinds={"numba", "parquet"},
        retry_policy=RETRY,
        automation_condition=dg.AutomationCondition.eager(),
        description=(
            "The LLM strategy as orders against the day's replayed ticks and book, per "
            "instrument: tables execution_orders, execution_fills, execution_equity, "
            "execution_daily and execution_summary; PnL split into signal alpha, "
            "spread/impact, fees and funding; passive fill rate; equity chart."
        ),
    )
    def execution_results(
        context: dg.AssetExecutionContext,
        config: ExecutionRunConfig,
        market: MarketResource,
        llm: LLMResource,
        warehouse: WarehouseResource,
    ) -> dg.MaterializeResult:
        import polars as pl

        from tardis_assets.lib.execution import execution_report, lake_market, run_execution
        from tardis_assets.lib.execution.tables import DAILY_TABLES

        with expected_failures("execution_results", context.partition_key):
            day = day_of(context.partition_key)
            wh = warehouse.warehouse()
            params = config.params()
            engine = config.engine_config(market, llm)
            run_id = execution_run_id(params, engine)
            tables: dict[str, list[pl.DataFrame]] = {name: [] for name in DAILY_TABLES}
            reports = []
            for exchange, symbol in market.instrument_list():
                try:
                    data = lake_market(wh.lake.root, exchange, symbol, [day])
                except ValueError as exc:
                    raise MissingInputError(
                        f"no ticks of {exchange}:{symbol} on {day}: {exc}",
                        remedy="Materialize the raw layers for that day first.",
                    ) from exc
                result = run_execution(data, _signals(wh, [day], exchange, symbol), params, engine)
                report = execution_report(
                    result, run_id=run_id, params=params, title=f"{exchange}:{symbol} {day}"
                )
                keys = {"date": pl.lit(day), "exchange": pl.lit(exchange), "symbol": pl.lit(symbol)}
                for name, frame in report.tables.items():
                    extra = {k: v for k, v in keys.items() if k not in frame.columns}
                    tables[name].append(frame.with_columns(**extra))
                reports.append(report)
            for name, frames in tables.items():
                wh.write(DAILY_TABLES[name], {"date": day, "run_id": run_id}, pl.concat(frames))
            first = reports[0]
            context.log.info(
                f"{day}: {len(reports)} instrument(s), {first.metadata.get('n_fills')} fills, "
                f"PnL {first.metadata.get('pnl_pnl')}"
            )
            return dg.MaterializeResult(
                metadata={
                    **plain_metadata(
                        {k: v for k, v in first.metadata.items() if k != "table_markdown"}
                    ),
                    "equity_curve": png_markdown(first.png, "tick-level equity"),
                }
            )

    @dg.asset(
        deps=[*raw_deps, "llm_signals"],
        group_name="execution",
        kinds={"numba", "parquet"},
        retry_policy=RETRY,
        description=(
            "The LLM strategy as orders over the configured range as one continuous replay "
            "(positions carry across midnight): tables range_execution_*; the same metadata as "
            "execution_results over the whole range."
        ),
    )
    def execution_range(
        context: dg.AssetExecutionContext,
        config: ExecutionRangeConfig,
        market: MarketResource,
        llm: LLMResource,
        warehouse: WarehouseResource,
    ) -> dg.MaterializeResult:
        import polars as pl

        from tardis_assets.lib.execution import execution_report, run_execution
        from tardis_assets.lib.execution.tables import RANGE_TABLES

        with expected_failures("execution_range"):
            wh = warehouse.warehouse()
            bars, _, label = load_range(wh, config)
            exchange, symbol = resolve_instrument(wh, config)
            days = sorted(set(bars["date"].to_list()))
            params, engine = config.params(), config.engine_config(market, llm)
            run_id = config.key(asset="execution_range", run=execution_run_id(params, engine))
            data = _range_data(wh, exchange, symbol, days)
            result = run_execution(data, _signals(wh, days, exchange, symbol), params, engine)
            report = execution_report(result, run_id=run_id, params=params, title=label)
            for name, frame in report.tables.items():
                table = RANGE_TABLES[f"range_{name}"]
                wh.write(
                    table, {"run_id": run_id}, frame.with_columns(pl.lit(label).alias("range"))
                )
            context.log.info(f"{label}: {report.metadata.get('n_fills')} fills")
            return report_result(report, label, ("equity_curve", "tick-level equity"))

    @dg.asset(
        deps=[*raw_deps, "llm_signals"],
        group_name="execution",
        kinds={"numba", "parquet"},
        retry_policy=RETRY,
        description=(
            "What latency is worth: the same signals and strategy replayed with the model latency "
            "set to measured, 47 ms, 850 ms, 2,300 ms and 10 s and the order latency to 1, 10 "
            "and 100 ms; table latency_study and a plot of PnL, Sharpe and implementation "
            "shortfall against latency."
        ),
    )
    def latency_study(
        context: dg.AssetExecutionContext,
        config: LatencyStudyConfig,
        market: MarketResource,
        llm: LLMResource,
        warehouse: WarehouseResource,
    ) -> dg.MaterializeResult:
        import polars as pl

        from tardis_assets.lib.execution.latency_study import latency_study as latency_study_report
        from tardis_assets.lib.execution.tables import LATENCY_STUDY

        with expected_failures("latency_study"):
            wh = warehouse.warehouse()
            bars, _, label = load_range(wh, config)
            exchange, symbol = resolve_instrument(wh, config)
            days = sorted(set(bars["date"].to_list()))
            params, engine = config.params(), config.engine_config(market, llm)
            run_id = config.key(asset="latency_study", run=execution_run_id(params, engine))
            try:
                report = latency_study_report(
                    _range_data(wh, exchange, symbol, days),
                    _signals(wh, days, exchange, symbol),
                    params,
                    engine,
                    run_id=run_id,
                    model_latencies_ms=config.model_latencies_ms,
                    order_latencies_ms=config.order_latencies_ms,
                )
            except ValueError as exc:
                raise BadInputError(f"latency_study {label}: {exc}") from exc
            table = report.tables["latency_study"].with_columns(pl.lit(label).alias("range"))
            wh.write(LATENCY_STUDY, {"run_id": run_id}, table)
            return report_result(
                report,
                label,
                ("latency_plot", "PnL, Sharpe, shortfall vs latency"),
                extra={"table": dg.MetadataValue.md(str(report.metadata["table_markdown"]))},
                skip=("table_markdown",),
            )

    return [execution_results, execution_range, latency_study]


def _range_data(wh: "Warehouse", exchange: str, symbol: str, days: list[date]):
    from tardis_assets.lib.execution import lake_market

    try:
        return lake_market(wh.lake.root, exchange, symbol, days)
    except ValueError as exc:
        raise MissingInputError(
            f"no ticks of {exchange}:{symbol} for {days[0]}..{days[-1]}: {exc}",
            remedy="Materialize the raw layers for those days first.",
        ) from exc
