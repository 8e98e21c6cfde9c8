"""Blocking data-quality checks on bars: a bad feature day must not reach the LLM layer."""

import dagster as dg

from tardis_assets.defs.partitions import daily
from tardis_assets.defs.resources import WarehouseResource
from tardis_assets.defs.support.context import run_days


@dg.asset_check(
    asset="bars",
    blocking=True,
    partitions_def=daily,
    description="low <= open, close <= high; volume >= 0",
)
def bars_ohlc_consistent(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    days = run_days(context)
    stats = (
        warehouse.warehouse()
        .read(
            """SELECT count(*) AS bars,
                   count(*) FILTER (WHERE NOT (low <= least(open, close)
                                            AND greatest(open, close) <= high
                                            AND volume >= 0 AND low > 0)) AS bad
            FROM bars WHERE date BETWEEN ? AND ?""",
            [days[0], days[-1]],
        )
        .row(0, named=True)
    )
    return dg.AssetCheckResult(
        passed=stats["bars"] > 0 and stats["bad"] == 0,
        metadata={"bars": stats["bars"], "inconsistent": stats["bad"]},
        description=None if stats["bars"] else f"no bars for {days[0]}..{days[-1]}",
    )


MAX_QUIET_BARS = 60


@dg.asset_check(
    asset="bars",
    blocking=True,
    partitions_def=daily,
    description=f"no run of more than {MAX_QUIET_BARS} consecutive bars without a trade",
)
def bars_no_long_gaps(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    days = run_days(context)
    frame = warehouse.warehouse().read(
        """SELECT exchange, symbol, max(run) AS longest FROM (
                SELECT exchange, symbol, count(*) AS run FROM (
                    SELECT exchange, symbol, trades,
                           sum(CASE WHEN trades > 0 THEN 1 ELSE 0 END)
                               OVER (PARTITION BY exchange, symbol ORDER BY bar_start) AS grp
                    FROM bars WHERE date BETWEEN ? AND ?)
                WHERE trades = 0 GROUP BY exchange, symbol, grp)
            GROUP BY exchange, symbol""",
        [days[0], days[-1]],
    )
    longest = int(frame["longest"].max() or 0) if frame.height else 0
    return dg.AssetCheckResult(
        passed=longest <= MAX_QUIET_BARS,
        metadata={"longest_quiet_bars": longest, "max_quiet_bars": MAX_QUIET_BARS},
    )
