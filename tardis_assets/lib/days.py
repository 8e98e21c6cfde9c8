"""UTC days: the partition unit of every layer, as tardis.dev splits its files.

One helper for day bounds, in the two forms the code needs: µs since the epoch (tick columns are
integer µs) and aware datetimes (what DuckDB compares with TIMESTAMPTZ columns).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

US_PER_SECOND = 1_000_000
US_PER_DAY = 86_400 * US_PER_SECOND


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def day_start_us(day: date) -> int:
    return int(day_start(day).timestamp()) * US_PER_SECOND


def day_bounds_us(day: date) -> tuple[int, int]:
    """Half-open ``[start, end)`` of a UTC day in µs since the epoch."""
    start = day_start_us(day)
    return start, start + US_PER_DAY


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Half-open bounds of a UTC day as aware datetimes."""
    start = day_start(day)
    return start, start + timedelta(days=1)


def days_bounds(days: Sequence[date]) -> tuple[datetime, datetime]:
    """Half-open bounds covering ``days`` (contiguous, as partition ranges are)."""
    first, last = min(days), max(days)
    return day_start(first), day_start(last) + timedelta(days=1)


def day_of_us(us: int) -> date:
    """The UTC day of a µs timestamp."""
    return datetime.fromtimestamp(us / US_PER_SECOND, tz=UTC).date()


def day_range(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, both included."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
