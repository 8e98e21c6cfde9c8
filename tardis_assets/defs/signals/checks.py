"""Blocking checks on signals: coverage of answers, values inside their schema's range, and no
signal available before its prompt window closed.

Coverage is judged on what the latest run of each partition asked (its stats: ok answers over
questions asked), not on windows: with the cadence design most pattern and risk windows are not
asked by design. When coverage is too low the check's description is the partition's one
sentence (look-ahead refusal, budget cap, provider down, broken answers), the same the asset
logged and the CLI prints. A single-run backfill evaluates the check once for a range of (day,
kind) partitions, so it judges each and fails if any fails, naming it.
"""

from datetime import date
from typing import TYPE_CHECKING

import dagster as dg

from tardis_assets.defs.partitions import daily_by_kind
from tardis_assets.defs.resources import LLMResource, WarehouseResource
from tardis_assets.defs.signals.assets import llm_signals
from tardis_assets.lib.llm import VALUE_RANGES

if TYPE_CHECKING:
    from tardis_assets.lib.warehouse import Warehouse


def row_problems(wh: "Warehouse", day: date, kind: str, window_minutes: int) -> dict[str, int]:
    lo, hi = VALUE_RANGES[kind]
    return wh.read(
        """SELECT count(*) AS windows,
                  count(*) FILTER (WHERE status = 'ok') AS ok_rows,
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
        "ok answers / questions asked >= min_ok_share in the partition's latest run; every "
        "value within range; no signal available before its prompt window closed"
    ),
)
def llm_signals_coverage(
    context: dg.AssetCheckExecutionContext, llm: LLMResource, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    from tardis_assets.lib.signals import coverage_failure

    wh = warehouse.warehouse()
    metadata: dict[str, object] = {"min_ok_share": float(llm.min_ok_share)}
    sentences: list[str] = []
    for text in context.partition_keys:
        key = daily_by_kind.get_partition_key_from_str(str(text))
        day, kind = date.fromisoformat(key.keys_by_dimension["date"]), key.keys_by_dimension["kind"]
        stats = wh.read(
            "SELECT * FROM llm_partition_latest WHERE date = ? AND kind = ?", [day, kind]
        )
        rows = row_problems(wh, day, kind, llm.window_minutes)
        prefix = "" if len(context.partition_keys) == 1 else f"{text} "
        asked = int(stats["requests"].sum()) if stats.height else 0
        ok = int(stats["ok"].sum()) if stats.height else 0
        metadata.update(
            {
                f"{prefix}windows": rows["windows"],
                f"{prefix}asked": asked,
                f"{prefix}ok_share": ok / asked if asked else 1.0,
                f"{prefix}out_of_range": rows["out_of_range"],
                f"{prefix}available_before_window": rows["early"],
            }
        )
        if not rows["windows"]:
            sentences.append(f"llm_signals {text}: no signal rows stored")
            continue
        failure = coverage_failure(stats, llm.min_ok_share)
        if failure is not None:
            sentences.append(failure.sentence())
        if rows["out_of_range"] or rows["early"]:
            sentences.append(
                f"llm_signals {text}: {rows['out_of_range']} values outside "
                f"[{VALUE_RANGES[kind][0]}, {VALUE_RANGES[kind][1]}] and {rows['early']} "
                "signals available before their window closed (a bug: report it)"
            )
    return dg.AssetCheckResult(
        passed=bool(context.partition_keys) and not sentences,
        metadata=metadata,
        description=" ".join(sentences) or None,
    )
