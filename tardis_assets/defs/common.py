"""Shared wiring: retry policy, the bad-input failure, and metadata helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg

# Network and warehouse-lock hiccups are worth retrying; bad input is not (see bad_input()).
RETRY = dg.RetryPolicy(
    max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
DUCKDB_POOL = "duckdb"


def bad_input(partition: str, exc: Exception) -> dg.Failure:
    """A failure that names the partition and the file/line problem, and is not retried."""
    return dg.Failure(
        description=f"partition {partition}: {exc}",
        metadata={"partition": partition, "error": str(exc)},
        allow_retries=False,
    )


def time_range_metadata(frame, column: str) -> dict[str, dg.MetadataValue]:
    """First/last timestamp of a frame column, as text the UI shows verbatim."""
    if frame.is_empty():
        return {}
    return {
        "first": dg.MetadataValue.text(str(frame[column].min())),
        "last": dg.MetadataValue.text(str(frame[column].max())),
    }


def run_days(context: dg.AssetCheckExecutionContext | dg.AssetExecutionContext) -> list[date]:
    """The UTC days of a run's partitions: one for a single partition, several for a range run
    (single-run backfills), where ``context.partition_key`` would raise."""
    return sorted({date.fromisoformat(key.split("|")[0]) for key in context.partition_keys})


def days_bounds(days: list[date]) -> tuple[datetime, datetime]:
    """Half-open UTC bounds covering ``days`` (contiguous, as partition ranges are)."""
    start = datetime(days[0].year, days[0].month, days[0].day, tzinfo=UTC)
    return start, start + timedelta(days=(days[-1] - days[0]).days + 1)
