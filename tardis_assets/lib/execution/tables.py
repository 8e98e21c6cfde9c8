"""The execution layer's tables: the frames of ``reports.TABLE_SCHEMAS``, stored by partition.

Their columns are the library's frames (one definition, in ``outputs`` and ``reports``); only
the partition columns are declared here. A day's replay replaces its (date, run_id) partition
(``date``, ``exchange`` and ``symbol`` are added by the daily asset, which replays every
instrument); a range replay, a latency study or a bar-vs-tick comparison replaces its run_id.
"""

from __future__ import annotations

from tardis_assets.lib.execution.reports import TABLE_SCHEMAS
from tardis_assets.lib.storage.schema import Col, Table

_DAILY = {"date": Col.DATE, "run_id": Col.TEXT}
_RUN = {"run_id": Col.TEXT}

DAILY_TABLES: dict[str, Table] = {
    name: Table(name, _DAILY, ("date", "run_id"), frame_defined=True) for name in TABLE_SCHEMAS
}
RANGE_TABLES: dict[str, Table] = {
    f"range_{name}": Table(f"range_{name}", _RUN, ("run_id",), frame_defined=True)
    for name in TABLE_SCHEMAS
}
LATENCY_STUDY = Table("latency_study", _RUN, ("run_id",), frame_defined=True)
BAR_VS_TICK = Table("llm_bar_vs_tick", _RUN, ("run_id",), frame_defined=True)

TABLES: tuple[Table, ...] = (
    *DAILY_TABLES.values(),
    *RANGE_TABLES.values(),
    LATENCY_STUDY,
    BAR_VS_TICK,
)
