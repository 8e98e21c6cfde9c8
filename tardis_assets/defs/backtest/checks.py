"""Blocking check on backtests: no position is opened before a signal could be known.

It covers every parameter set (run_id) stored for the day, not only the default one.
"""

import dagster as dg

from tardis_assets.defs.common import run_days
from tardis_assets.defs.partitions import daily
from tardis_assets.defs.resources import WarehouseResource


@dg.asset_check(
    asset="backtest_results",
    blocking=True,
    partitions_def=daily,
    description=(
        "every entry (flat to positioned, or a flip) happens at a bar starting at or after the "
        "available_at of some ok signal of that day: no trade before its signal existed"
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
               SELECT exchange, symbol, bar_start, position,
                      lag(position, 1, 0)
                          OVER (PARTITION BY run_id, exchange, symbol ORDER BY bar_start)
                          AS previous
               FROM backtest_per_bar WHERE date BETWEEN ? AND ?),
           entries AS (
               SELECT * FROM b WHERE position <> 0 AND sign(position) <> sign(previous))
           SELECT count(*) AS entries,
                  count(*) FILTER (WHERE NOT EXISTS (
                      SELECT 1 FROM llm_signals s
                      WHERE s.exchange = entries.exchange AND s.symbol = entries.symbol
                        AND s.status = 'ok' AND s.available_at <= entries.bar_start
                        AND s.bar_start < entries.bar_start)) AS early
           FROM entries""",
            [days[0], days[-1]],
        )
        .row(0, named=True)
    )
    return dg.AssetCheckResult(
        passed=stats["early"] == 0,
        metadata={"entries": stats["entries"], "entries_before_any_signal": stats["early"]},
    )
