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

Every name is imported from its module on first use (``lib/lazy.py``). The functions
``bar_vs_tick`` and ``latency_study`` are imported from their modules of the same name: importing
a submodule rebinds the package attribute of its name, so such a name cannot be lazy.
"""

from tardis_assets.lib.lazy import lazy_exports

_LAZY = {
    "GAP_SCHEMA": "bar_vs_tick",
    "gap_metadata": "bar_vs_tick",
    "params_from_rows": "bar_vs_tick",
    "ExecutionConfig": "config",
    "OrderCommand": "engine",
    "run_execution": "engine",
    "run_orders": "engine",
    "FeeRates": "fees",
    "FeeTable": "fees",
    "load_fees": "fees",
    "FundingSchedule": "funding",
    "funding_schedule": "funding",
    "LATENCY_SCHEMA": "latency_study",
    "MODEL_LATENCIES_MS": "config",
    "ORDER_LATENCIES_MS": "config",
    "latency_table": "latency_study",
    "EQUITY_SCHEMA": "outputs",
    "ExecutionResult": "outputs",
    "FILLS_SCHEMA": "outputs",
    "FUNDING_SCHEMA": "outputs",
    "ORDERS_SCHEMA": "outputs",
    "PNL_NAMES": "outputs",
    "DecisionPlan": "plan",
    "decision_plan": "plan",
    "TABLE_SCHEMAS": "reports",
    "daily_breakdown": "reports",
    "execution_report": "reports",
    "MarketData": "sources",
    "frame_market": "sources",
    "lake_market": "sources",
}

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
    "daily_breakdown",
    "decision_plan",
    "execution_report",
    "frame_market",
    "funding_schedule",
    "gap_metadata",
    "lake_market",
    "latency_table",
    "load_fees",
    "params_from_rows",
    "run_execution",
    "run_orders",
]

__getattr__ = lazy_exports(__name__, _LAZY)
