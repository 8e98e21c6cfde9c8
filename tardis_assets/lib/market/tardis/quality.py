"""Data-quality report of one lake Parquet file, the basis of the blocking asset checks.

Counts that are order-free (rows outside the day, negative amounts, non-positive prices, duplicate
trade ids) come from one aggregate DuckDB query over the file. The order-dependent ones
(local timestamps going backwards, the longest silence) are computed over DuckDB's streamed
result in file order, batch by batch, carrying the previous value across batches: a SQL window
over 50M rows would materialize the whole column, this keeps memory flat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from tardis_assets.lib.days import day_bounds_us
from tardis_assets.lib.market.tardis.duck import ingest_connection
from tardis_assets.lib.market.tardis.errors import TardisFileError
from tardis_assets.lib.market.tardis.schemas import DATA_TYPES, Rule, columns
from tardis_assets.lib.market.tardis.validate import quote_ident

# Exchanges' feeds reorder a handful of messages; more than this share of rows is a problem.
DEFAULT_OUT_OF_ORDER_TOLERANCE = 0.001
_BATCH_ROWS = 1 << 20


@dataclass(frozen=True)
class QualityReport:
    path: Path
    data_type: str
    day: date
    rows: int
    rows_outside_day: int
    negative_amounts: int
    non_positive_prices: int
    duplicate_trade_ids: int  # rows repeating an (exchange, id) already seen; 0 where no ids
    out_of_order_local_timestamps: int  # rows whose local_timestamp is below the previous row's
    longest_gap_seconds: float  # longest silence, day start and day end included
    longest_gap_start_us: int  # µs since epoch where that silence starts
    passed: bool
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def longest_gap_start(self) -> datetime:
        return datetime.fromtimestamp(self.longest_gap_start_us / 1e6, tz=UTC)

    def as_metadata(self) -> dict[str, object]:
        """Plain values for asset-check metadata."""
        return {
            "rows": self.rows,
            "rows_outside_day": self.rows_outside_day,
            "negative_amounts": self.negative_amounts,
            "non_positive_prices": self.non_positive_prices,
            "duplicate_trade_ids": self.duplicate_trade_ids,
            "out_of_order_local_timestamps": self.out_of_order_local_timestamps,
            "longest_gap_seconds": round(self.longest_gap_seconds, 6),
            "longest_gap_start": self.longest_gap_start.isoformat(),
            "problems": "; ".join(self.problems) or "none",
        }


def _count_sql(data_type: str, day: date) -> str:
    lo, hi = day_bounds_us(day)
    cols = columns(data_type)
    amounts = [quote_ident(c.name) for c in cols if c.rule is Rule.AMOUNT]
    prices = [quote_ident(c.name) for c in cols if c.rule is Rule.PRICE]

    def any_of(names: list[str], cond: str) -> str:
        return " OR ".join(f"{n} {cond}" for n in names) or "false"

    return (
        "SELECT count(*), "
        f"count(*) FILTER (WHERE local_timestamp < {lo} OR local_timestamp >= {hi}), "
        f"count(*) FILTER (WHERE {any_of(amounts, '< 0')}), "
        f"count(*) FILTER (WHERE {any_of(prices, '<= 0')}) "
        "FROM read_parquet($p)"
    )


_DUPLICATES_SQL = (
    "SELECT coalesce(sum(n - 1), 0) FROM ("
    "SELECT count(*) AS n FROM read_parquet($p) WHERE id IS NOT NULL "
    "GROUP BY exchange, id HAVING count(*) > 1)"
)


def _order_and_gaps(con, parquet: Path, day: date) -> tuple[int, float, int]:
    lo, hi = day_bounds_us(day)
    reader = con.sql(
        "SELECT local_timestamp FROM read_parquet($p)", params={"p": str(parquet)}
    ).to_arrow_reader(_BATCH_ROWS)
    last: int | None = None
    out_of_order = 0
    running_max = lo  # the day's start opens the first silence
    best_gap, best_start = -1, lo
    for batch in reader:
        ts = batch.column(0).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        if ts.size == 0:
            continue
        if last is not None and ts[0] < last:
            out_of_order += 1
        out_of_order += int(np.count_nonzero(ts[1:] < ts[:-1]))
        last = int(ts[-1])
        # silence is measured on the running maximum so one late row does not fake a gap
        # rows past the day's end (a quality problem of their own) close the day's last silence
        clipped = np.minimum(ts, hi)
        maxes = np.maximum.accumulate(np.concatenate(([running_max], clipped)))
        gaps = np.diff(maxes)
        i = int(np.argmax(gaps))
        if gaps[i] > best_gap:
            best_gap, best_start = int(gaps[i]), int(maxes[i])
        running_max = int(maxes[-1])
    tail = hi - running_max
    if tail > best_gap:
        best_gap, best_start = tail, running_max
    return out_of_order, max(best_gap, 0) / 1e6, best_start


def quality_report(
    parquet_path: Path | str,
    data_type: str,
    day: date,
    *,
    out_of_order_tolerance: float = DEFAULT_OUT_OF_ORDER_TOLERANCE,
    max_gap_seconds: float | None = None,
) -> QualityReport:
    """Everything the raw-layer checks need about one partition file, in two streaming passes.

    ``passed`` is false when any row is outside the day, has a negative amount or non-positive
    price, repeats a trade id, when out-of-order rows exceed ``out_of_order_tolerance`` of all
    rows, when the file is empty, or (if given) when the longest silence exceeds
    ``max_gap_seconds``; ``problems`` says which.
    """
    path = Path(parquet_path)
    if data_type not in DATA_TYPES:
        raise TardisFileError(path, None, f"unknown data type {data_type!r}")
    if not path.is_file():
        raise TardisFileError(path, None, "no such Parquet file")
    with ingest_connection() as con:
        rows, outside, negative, non_positive = con.sql(
            _count_sql(data_type, day), params={"p": str(path)}
        ).fetchall()[0]
        names = {c.name for c in columns(data_type)}
        duplicates = 0
        if {"id", "exchange"} <= names:
            duplicates = int(con.sql(_DUPLICATES_SQL, params={"p": str(path)}).fetchall()[0][0])
        out_of_order, gap_s, gap_start = _order_and_gaps(con, path, day)

    problems: list[str] = []
    if rows == 0:
        problems.append("no rows")
    if outside:
        problems.append(f"{outside} rows with local_timestamp outside {day.isoformat()}")
    if negative:
        problems.append(f"{negative} rows with a negative amount")
    if non_positive:
        problems.append(f"{non_positive} rows with a non-positive price")
    if duplicates:
        problems.append(f"{duplicates} rows repeat a trade id of the same exchange")
    allowed = int(out_of_order_tolerance * rows)
    if out_of_order > allowed:
        problems.append(
            f"{out_of_order} rows with local_timestamp below the previous row's "
            f"(tolerance {allowed})"
        )
    if max_gap_seconds is not None and gap_s > max_gap_seconds:
        problems.append(f"silence of {gap_s:.1f}s exceeds {max_gap_seconds:.1f}s")
    return QualityReport(
        path=path,
        data_type=data_type,
        day=day,
        rows=int(rows),
        rows_outside_day=int(outside),
        negative_amounts=int(negative),
        non_positive_prices=int(non_positive),
        duplicate_trade_ids=duplicates,
        out_of_order_local_timestamps=out_of_order,
        longest_gap_seconds=gap_s,
        longest_gap_start_us=gap_start,
        passed=not problems,
        problems=tuple(problems),
    )
