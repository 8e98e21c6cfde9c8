"""Tick-level, latency-aware execution: the LLM strategy's orders against the replayed book.

A day (or a range of days) of one instrument is replayed from the lake in exchange-time order
for the matching engine and in arrival order for the strategy; orders travel with an entry
latency, fills come back with a response latency, every signal acts at its own ``available_at``
(the LLM's measured latency). Fills walk the visible depth or queue behind the displayed size;
fees come from ``fees.toml``, funding from ``derivative_ticker``. Modules, one concept each:

``sources`` (lake/frame chunks), ``events`` (one event layout, flatteners), ``ordering`` (exchange
and arrival order in bounded memory), ``book`` (array depth book), ``queue`` (queue-position
models), ``orders`` (order/fill tables), ``matching`` (the exchange side), ``strategy`` (the
strategy side), ``plan`` (signals -> decisions), ``funding``, ``fees``, ``ticks``, ``state``,
``kernel`` (the replay loop), ``replay`` (its driver), ``outputs`` (tables, metrics, PnL
breakdown), ``engine`` (entry points), ``reports``, ``latency_study``, ``bar_vs_tick``.

Import the public API from here.
"""

from tardis_assets.lib.execution.bar_vs_tick import (
    GAP_SCHEMA,
    bar_vs_tick,
    gap_metadata,
    params_from_rows,
)
from tardis_assets.lib.execution.config import ExecutionConfig
from tardis_assets.lib.execution.engine import OrderCommand, run_execution, run_orders
from tardis_assets.lib.execution.fees import FeeRates, FeeTable, load_fees
from tardis_assets.lib.execution.funding import FundingSchedule, funding_schedule
from tardis_assets.lib.execution.latency_study import (
    LATENCY_SCHEMA,
    MODEL_LATENCIES_MS,
    ORDER_LATENCIES_MS,
    latency_study,
    latency_table,
)
from tardis_assets.lib.execution.outputs import (
    EQUITY_SCHEMA,
    FILLS_SCHEMA,
    FUNDING_SCHEMA,
    ORDERS_SCHEMA,
    PNL_NAMES,
    ExecutionResult,
)
from tardis_assets.lib.execution.plan import DecisionPlan, decision_plan
from tardis_assets.lib.execution.reports import TABLE_SCHEMAS, daily_breakdown, execution_report
from tardis_assets.lib.execution.sources import MarketData, frame_market, lake_market

__all__ = [
    "EQUITY_SCHEMA",
    "FILLS_SCHEMA",
    "FUNDING_SCHEMA",
    "GAP_SCHEMA",
    "LATENCY_SCHEMA",
    "MODEL_LATENCIES_MS",
    "ORDERS_SCHEMA",
    "ORDER_LATENCIES_MS",
    "PNL_NAMES",
    "TABLE_SCHEMAS",
    "DecisionPlan",
    "ExecutionConfig",
    "ExecutionResult",
    "FeeRates",
    "FeeTable",
    "FundingSchedule",
    "MarketData",
    "OrderCommand",
    "bar_vs_tick",
    "daily_breakdown",
    "decision_plan",
    "execution_report",
    "frame_market",
    "funding_schedule",
    "gap_metadata",
    "lake_market",
    "latency_study",
    "latency_table",
    "load_fees",
    "params_from_rows",
    "run_execution",
    "run_orders",
]
