"""The daily schedule and the automation that carries a new day through the layers.

The schedule materializes yesterday's ticks, news and bars shortly after the UTC day closes. The
signal and backtest layers follow through eager automation conditions (evaluated by the
automation sensor), which start them only once their upstream partition is updated: ``deps`` alone
would let them start, and fail, before the bars exist.

Both are off unless the settings switch them on (``TARDIS_SCHEDULES=on`` where ``dagster dev``
runs, or ``[schedules] enabled = true``), so tests and a casual ``make ui`` never start work on
their own.
"""

import dagster as dg

from tardis_assets.defs.jobs import market_job


def build_schedules(on: bool) -> list[dg.ScheduleDefinition]:
    return [
        dg.build_schedule_from_partitioned_job(
            market_job,
            name="market_daily_schedule",
            description="Yesterday's ticks, news and bars, 30 minutes after the UTC day closes.",
            hour_of_day=0,
            minute_of_hour=30,
            default_status=dg.DefaultScheduleStatus.RUNNING
            if on
            else dg.DefaultScheduleStatus.STOPPED,
        )
    ]


def build_sensors(on: bool) -> list[dg.SensorDefinition]:
    return [
        dg.AutomationConditionSensorDefinition(
            "layer_automation",
            target=dg.AssetSelection.all(),
            default_status=dg.DefaultSensorStatus.RUNNING if on else dg.DefaultSensorStatus.STOPPED,
            description="Materializes signals and backtests once their day's bars have landed.",
        )
    ]
