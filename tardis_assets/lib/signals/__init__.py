"""The signal layer, Dagster-free: what is asked when, and the tables it fills.

`compute_partition(gateway_config, settings, bars, news, day, kind, run_id, mode)` is the one
entry point per (day, kind) partition; `ledger_rows(cache_path, day, kind)` rebuilds the
partition's ledger from the cache's journal; `estimate_range` prices a range before it runs;
`coverage_failure` turns a run's stats into the one failure sentence. Tables: tables.py;
prompt windows: windows.py.

Every name is imported from its module on first use (``lib/lazy.py``).
"""

from tardis_assets.lib.lazy import lazy_exports

_LAZY = {
    "STATUS_NOT_ASKED": "assemble",
    "STATUS_NO_NEWS": "assemble",
    "estimate_plans": "estimate",
    "estimate_range": "estimate",
    "coverage_failure": "failures",
    "ledger_rows": "ledger",
    "MODES": "partition",
    "SignalPartition": "partition",
    "compute_partition": "partition",
    "KindPlan": "planning",
    "REASONS": "planning",
    "plan_kind": "planning",
    "DESIGNS": "settings",
    "SignalSettings": "settings",
    "LLM_CALLS": "tables",
    "LLM_PARTITION_STATS": "tables",
    "LLM_SIGNALS": "tables",
    "TABLES": "tables",
}

__all__ = [
    "DESIGNS",
    "LLM_CALLS",
    "LLM_PARTITION_STATS",
    "LLM_SIGNALS",
    "MODES",
    "REASONS",
    "STATUS_NOT_ASKED",
    "STATUS_NO_NEWS",
    "TABLES",
    "KindPlan",
    "SignalPartition",
    "SignalSettings",
    "compute_partition",
    "coverage_failure",
    "estimate_plans",
    "estimate_range",
    "ledger_rows",
    "plan_kind",
]

__getattr__ = lazy_exports(__name__, _LAZY)
