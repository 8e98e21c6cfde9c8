"""The backtest and research layers' tables.

Their columns are defined by the frames ``lib.backtest.reports`` returns (one column per metric,
per parameter), so only the partition columns are declared here: a daily backtest replaces its
(date, run_id) partition, a range-level report its run_id.
"""

from __future__ import annotations

from tardis_assets.lib.storage.schema import Col, Table

_DAILY_KEYS = {"date": Col.DATE, "run_id": Col.TEXT}
_RUN_KEY = {"run_id": Col.TEXT}

BACKTEST_PER_BAR = Table(
    "backtest_per_bar",
    _DAILY_KEYS,
    ("date", "run_id"),
    "per-bar position, returns, equity",
    frame_defined=True,
)
BACKTEST_SUMMARY = Table(
    "backtest_summary",
    _DAILY_KEYS,
    ("date", "run_id"),
    "metrics per day, instrument and params",
    frame_defined=True,
)

REPORT_TABLE_NAMES = (
    "optimization_results",
    "optimization_top",
    "llm_optimization_results",
    "llm_optimization_top",
    "walk_forward_oos",
    "walk_forward_folds",
    "range_backtest_per_bar",
    "range_backtest_summary",
    "risk_summary",
    "risk_bands",
)
REPORT_TABLES: dict[str, Table] = {
    name: Table(name, _RUN_KEY, ("run_id",), frame_defined=True) for name in REPORT_TABLE_NAMES
}
