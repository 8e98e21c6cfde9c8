"""Keep the catalog file (``warehouse.duckdb``) in step with the lake after every run.

Project code never needs the file (it reads the lake through in-memory views), but people and
external tools open it, and a view over a table that had no file yet must be redefined once the
first partition lands. After each successful run the daemon rewrites the views: a few
milliseconds, no data copied, and nothing waits on it.
"""

from __future__ import annotations

import dagster as dg

from tardis_assets.defs.resources import WarehouseResource


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="catalog_sync",
    description="Rewrites the DuckDB views of warehouse.duckdb after each successful run.",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=5,
)
def catalog_sync_sensor(context: dg.RunStatusSensorContext, warehouse: WarehouseResource) -> None:
    warehouse.warehouse().sync_catalog()
    context.log.debug(f"catalog synced after run {context.dagster_run.run_id}")
