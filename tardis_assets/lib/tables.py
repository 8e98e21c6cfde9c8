"""Every table and view of the project, assembled from the layers that own them.

Each layer defines its own tables (``lib/market/tables.py``, ``lib/features/tables.py``, ...);
this module only lists them, adds the signal layer's tables, and builds the catalog views: one
view per lake table, one per raw tardis type, and the derived cost and stats views.
"""

from __future__ import annotations

from tardis_assets.lib.backtest.tables import BACKTEST_PER_BAR, BACKTEST_SUMMARY, REPORT_TABLES
from tardis_assets.lib.costs import COST_VIEWS
from tardis_assets.lib.features.tables import BARS
from tardis_assets.lib.llm.ledger import LLM_CALLS_COLUMNS
from tardis_assets.lib.market.tables import NEWS, RAW_FILES, RAW_QUALITY
from tardis_assets.lib.market.tardis import DATA_TYPES, lake_view_sql
from tardis_assets.lib.storage.catalog import View, table_view
from tardis_assets.lib.storage.lake import Lake
from tardis_assets.lib.storage.schema import Col, Table

LLM_SIGNALS = Table(
    "llm_signals",
    {
        "date": Col.DATE,
        "exchange": Col.TEXT,
        "symbol": Col.TEXT,
        "bar_start": Col.TIME,
        "kind": Col.TEXT,
        "value": Col.FLOAT,
        "confidence": Col.FLOAT,
        "label": Col.TEXT,
        "status": Col.TEXT,
        "model": Col.TEXT,
        "model_cutoff": Col.DATE,
        "available_at": Col.TIME,
        "request_hash": Col.TEXT,
    },
    partition_by=("date", "kind"),
    description="one LLM answer (or failure status) per bar window and kind",
)

# What each materialization of a (date, kind) needed and cost, one row per model; every run
# keeps its own file, and the view ``llm_partition_stats`` shows the latest run of each partition.
LLM_PARTITION_RUNS = Table(
    "llm_partition_runs",
    {
        "date": Col.DATE,
        "kind": Col.TEXT,
        "run_id": Col.TEXT,
        "model": Col.TEXT,
        "provider": Col.TEXT,
        "requests": Col.INT,
        "ok": Col.INT,
        "failed": Col.INT,
        "cache_hits": Col.INT,
        "http_calls": Col.INT,
        "not_sent": Col.INT,
        "cost_usd": Col.FLOAT,
        "cache_savings_usd": Col.FLOAT,
        "tokens_in": Col.INT,
        "tokens_out": Col.INT,
        "latency_p50_ms": Col.FLOAT,
        "latency_p95_ms": Col.FLOAT,
        "materialized_at": Col.TIME,
    },
    partition_by=("date", "kind", "run_id"),
)

_LEDGER_TYPES = {
    "VARCHAR": Col.TEXT,
    "BIGINT": Col.INT,
    "INTEGER": Col.INT32,
    "DOUBLE": Col.FLOAT,
    "BOOLEAN": Col.BOOL,
    "DATE": Col.DATE,
}
# The ledger of paid LLM calls; each step attempt that paid writes its own file (``writer``),
# so a retry can never overwrite what an earlier attempt recorded.
LLM_CALLS = Table(
    "llm_calls",
    {
        **{name: _LEDGER_TYPES[sql] for name, sql in LLM_CALLS_COLUMNS.items()},
        "writer": Col.TEXT,
    },
    partition_by=("day", "kind", "writer"),
)

TABLES: tuple[Table, ...] = (
    RAW_FILES,
    RAW_QUALITY,
    NEWS,
    BARS,
    LLM_SIGNALS,
    LLM_PARTITION_RUNS,
    LLM_CALLS,
    BACKTEST_PER_BAR,
    BACKTEST_SUMMARY,
    *REPORT_TABLES.values(),
)

LATEST_PARTITION_STATS = View(
    "llm_partition_stats",
    lambda: (
        "SELECT * EXCLUDE (run_id) FROM llm_partition_runs "
        "QUALIFY materialized_at = max(materialized_at) OVER (PARTITION BY date, kind)"
    ),
    needs=("llm_partition_runs",),
)


def project_views(lake: Lake) -> list[View]:
    """Every view of the catalog for a lake: tables, raw tardis types, derived views."""
    raw = [
        View(f"raw_{t}", lambda t=t: lake_view_sql(lake.root, t))  # type: ignore[misc]
        for t in DATA_TYPES
    ]
    return [*(table_view(lake, t) for t in TABLES), *raw, LATEST_PARTITION_STATS, *COST_VIEWS]
