"""Blocking checks on signals: coverage of ok answers and values inside their schema's range."""

from datetime import date

import dagster as dg

from tardis_assets.defs.features.assets import BARS_WHERE, day_bounds
from tardis_assets.defs.partitions import daily_by_kind
from tardis_assets.defs.resources import LLMResource, WarehouseResource
from tardis_assets.defs.signals.assets import llm_signals

RANGES = {"sentiment": (-1.0, 1.0), "pattern": (-1.0, 1.0), "risk": (0.0, 1.0)}


@dg.asset_check(
    asset=llm_signals,
    blocking=True,
    description="share of bar windows with status ok >= min_ok_share; every value within range",
)
def llm_signals_coverage(
    context: dg.AssetCheckExecutionContext, llm: LLMResource, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    key = daily_by_kind.get_partition_key_from_str(context.partition_key)
    day_text, kind = key.keys_by_dimension["date"], key.keys_by_dimension["kind"]
    lo, hi = RANGES[kind]
    stats = (
        warehouse.warehouse()
        .read(
            f"""SELECT count(*) AS windows,
                   count(*) FILTER (WHERE status = 'ok') AS ok,
                   count(*) FILTER (WHERE status = 'ok' AND NOT (value BETWEEN ? AND ?))
                       AS out_of_range,
                   count(*) FILTER (WHERE status = 'ok' AND available_at <= bar_start) AS early
            FROM llm_signals WHERE kind = ? AND {BARS_WHERE}""",
            [lo, hi, kind, *day_bounds(date.fromisoformat(day_text))],
        )
        .row(0, named=True)
    )
    share = stats["ok"] / stats["windows"] if stats["windows"] else 0.0
    return dg.AssetCheckResult(
        passed=share >= llm.min_ok_share and stats["out_of_range"] == 0 and stats["early"] == 0,
        metadata={
            "windows": stats["windows"],
            "ok_share": float(share),
            "min_ok_share": float(llm.min_ok_share),
            "out_of_range": stats["out_of_range"],
            "available_before_window": stats["early"],
        },
    )
