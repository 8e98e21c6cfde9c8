"""The signal layer, Dagster-free: what is asked when, and the tables it fills.

`compute_partition(gateway_config, settings, bars, news, day, kind, run_id, mode)` is the one
entry point per (day, kind) partition; `ledger_rows(cache_path, day, kind)` rebuilds the
partition's ledger from the cache's journal; `estimate_range` prices a range before it runs;
`coverage_failure` turns a run's stats into the one failure sentence. Tables: tables.py;
prompt windows: windows.py.
"""

from tardis_assets.lib.signals.assemble import STATUS_NO_NEWS, STATUS_NOT_ASKED
from tardis_assets.lib.signals.estimate import estimate_plans, estimate_range
from tardis_assets.lib.signals.failures import coverage_failure
from tardis_assets.lib.signals.ledger import ledger_rows
from tardis_assets.lib.signals.partition import MODES, SignalPartition, compute_partition
from tardis_assets.lib.signals.planning import REASONS, KindPlan, plan_kind
from tardis_assets.lib.signals.settings import DESIGNS, SignalSettings
from tardis_assets.lib.signals.tables import LLM_CALLS, LLM_PARTITION_STATS, LLM_SIGNALS, TABLES

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
