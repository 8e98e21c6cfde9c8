"""Blocking data-quality checks on bars: a bad feature day must not reach the LLM layer."""

import dagster as dg

from tardis_assets.defs.features.assets import BARS_WHERE, day_bounds
from tardis_assets.defs.resources import WarehouseResource, day_of


@dg.asset_check(asset="bars", blocking=True, description="low <= open, close <= high; volume >= 0")
def bars_ohlc_consistent(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    day = day_of(context.partition_key)
    stats = (
        warehouse.warehouse()
        .read(
            f"""SELECT count(*) AS bars,
                   count(*) FILTER (WHERE NOT (low <= least(open, close)
                                            AND greatest(open, close) <= high
                                            AND volume >= 0 AND low > 0)) AS bad
            FROM bars WHERE {BARS_WHERE}""",
            day_bounds(day),
        )
        .row(0, named=True)
    )
    return dg.AssetCheckResult(
        passed=stats["bars"] > 0 and stats["bad"] == 0,
        metadata={"bars": stats["bars"], "inconsistent": stats["bad"]},
        description=None if stats["bars"] else f"no bars for {day}",
    )
