"""Blocking checks on signals: coverage of ok answers and values inside their schema's range.

A single-run backfill evaluates the check once for a whole range of (day, kind) partitions, so
the check judges every partition of the run and fails if any one fails, naming it.
"""

from datetime import date

import dagster as dg

from tardis_assets.defs.partitions import daily_by_kind
from tardis_assets.defs.resources import LLMResource, WarehouseResource
from tardis_assets.defs.signals.assets import llm_signals
from tardis_assets.lib.llm import VALUE_RANGES
from tardis_assets.lib.warehouse import Warehouse


def partition_stats(wh: Warehouse, day: date, kind: str, window_minutes: int) -> dict[str, int]:
    lo, hi = VALUE_RANGES[kind]
    return wh.read(
        """SELECT count(*) AS windows,
                   count(*) FILTER (WHERE status = 'ok') AS ok,
                   count(*) FILTER (WHERE status = 'ok' AND NOT (value BETWEEN ? AND ?))
                       AS out_of_range,
                   count(*) FILTER (WHERE status = 'ok'
                       AND available_at < bar_start + to_minutes(?::BIGINT)) AS early
            FROM llm_signals WHERE kind = ? AND date = ?""",
        [lo, hi, window_minutes, kind, day],
    ).row(0, named=True)


@dg.asset_check(
    asset=llm_signals,
    blocking=True,
    partitions_def=daily_by_kind,
    description=(
        "share of bar windows with status ok >= min_ok_share; every value within range; no "
        "signal available before its prompt window closed"
    ),
)
def llm_signals_coverage(
    context: dg.AssetCheckExecutionContext, llm: LLMResource, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    wh = warehouse.warehouse()
    metadata: dict[str, object] = {"min_ok_share": float(llm.min_ok_share)}
    failed: list[str] = []
    for text in context.partition_keys:
        key = daily_by_kind.get_partition_key_from_str(str(text))
        day, kind = date.fromisoformat(key.keys_by_dimension["date"]), key.keys_by_dimension["kind"]
        stats = partition_stats(wh, day, kind, llm.window_minutes)
        share = stats["ok"] / stats["windows"] if stats["windows"] else 0.0
        prefix = "" if len(context.partition_keys) == 1 else f"{text} "
        metadata.update(
            {
                f"{prefix}windows": stats["windows"],
                f"{prefix}ok_share": float(share),
                f"{prefix}out_of_range": stats["out_of_range"],
                f"{prefix}available_before_window": stats["early"],
            }
        )
        if share < llm.min_ok_share or stats["out_of_range"] or stats["early"]:
            failed.append(str(text))
    return dg.AssetCheckResult(
        passed=bool(context.partition_keys) and not failed,
        metadata=metadata,
        description=f"failing partitions: {', '.join(failed)}" if failed else None,
    )
