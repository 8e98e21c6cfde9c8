"""Blocking check on backtests: no position is opened before its signal could be known.

The backtest stores, per bar, when the newest signal behind that bar's decision became known
(``signal_available_at``); every entry must be filled at a bar starting at or after it. It covers
every parameter set (run_id) stored for the run's days, not only the default one.
"""

import dagster as dg

from tardis_assets.defs.partitions import daily
from tardis_assets.defs.resources import WarehouseResource
from tardis_assets.defs.support.context import run_days


@dg.asset_check(
    asset="backtest_results",
    blocking=True,
    partitions_def=daily,
    description=(
        "every entry (flat to positioned, or a flip) is filled at a bar that starts at or after "
        "the available_at of every signal behind it: no trade before its signal existed"
    ),
)
def backtest_no_trade_before_signal(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    days = run_days(context)
    stats = (
        warehouse.warehouse()
        .read(
            """WITH b AS (
               SELECT bar_start, position, signal_available_at,
                      lag(position, 1, 0)
                          OVER (PARTITION BY run_id, exchange, symbol ORDER BY bar_start)
                          AS previous
               FROM backtest_per_bar WHERE date BETWEEN ? AND ?)
           SELECT count(*) AS entries,
                  count(*) FILTER (WHERE signal_available_at IS NULL
                                      OR signal_available_at > bar_start) AS early
           FROM b WHERE position <> 0 AND sign(position) <> sign(previous)""",
            [days[0], days[-1]],
        )
        .row(0, named=True)
    )
    return dg.AssetCheckResult(
        passed=stats["early"] == 0,
        metadata={"entries": stats["entries"], "entries_before_their_signal": stats["early"]},
    )
