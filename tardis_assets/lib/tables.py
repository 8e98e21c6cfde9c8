"""Every table and view of the project, assembled from the layers that own them.

Each layer defines its own tables (``lib/market/tables.py``, ``lib/features/tables.py``,
``lib/signals/tables.py``, ``lib/backtest/tables.py``); this module only lists them and builds
the catalog views: one view per lake table, one per raw tardis type, and the derived views
(the latest run of each signal partition, the LLM costs).
"""

from __future__ import annotations

from tardis_assets.lib.backtest.tables import BACKTEST_PER_BAR, BACKTEST_SUMMARY, REPORT_TABLES
from tardis_assets.lib.costs import COST_VIEWS
from tardis_assets.lib.execution.tables import TABLES as EXECUTION_TABLES
from tardis_assets.lib.features.tables import BARS
from tardis_assets.lib.market.tables import NEWS, RAW_FILES, RAW_QUALITY
from tardis_assets.lib.market.tardis import DATA_TYPES, lake_view_sql
from tardis_assets.lib.signals.tables import TABLES as SIGNAL_TABLES
from tardis_assets.lib.storage.catalog import View, table_view
from tardis_assets.lib.storage.lake import Lake
from tardis_assets.lib.storage.schema import Table

TABLES: tuple[Table, ...] = (
    RAW_FILES,
    RAW_QUALITY,
    NEWS,
    BARS,
    *SIGNAL_TABLES,
    BACKTEST_PER_BAR,
    BACKTEST_SUMMARY,
    *REPORT_TABLES.values(),
    *EXECUTION_TABLES,
)

# Every run of a (date, kind) keeps its stats; what the partition is now is its latest run.
LATEST_PARTITION_STATS = View(
    "llm_partition_latest",
    lambda: (
        "SELECT * FROM llm_partition_stats "
        "QUALIFY materialized_at = max(materialized_at) OVER (PARTITION BY date, kind)"
    ),
    needs=("llm_partition_stats",),
)


def project_views(lake: Lake) -> list[View]:
    """Every view of the catalog for a lake: tables, raw tardis types, derived views."""
    raw = [
        View(f"raw_{t}", lambda t=t: lake_view_sql(lake.root, t))  # type: ignore[misc]
        for t in DATA_TYPES
    ]
    return [*(table_view(lake, t) for t in TABLES), *raw, LATEST_PARTITION_STATS, *COST_VIEWS]
