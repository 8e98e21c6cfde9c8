"""Data-quality report of one lake Parquet file, the basis of the blocking asset checks.

Counts that are order-free (rows outside the day, negative amounts, non-positive prices) come
from one aggregate DuckDB query over the file, repeated trade ids from a second one that groups
by hash first (``_DUPLICATES_SQL``: exact, without spilling). The order-dependent ones
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
from tardis_assets.lib.sql import quote_ident

_BATCH_ROWS = 1 << 20
# Rows of a file map to CSV lines this way (the header is line 1), as in the validators.
LINE_OFFSET = 2


@dataclass(frozen=True)
class QualityReport:
    """Measurements of one partition file; what they may be is decided by ``lib.quality``.

    ``first_rows`` holds, per count, the 0-based file row of the first offending row, so a
    message can name the line (row + 2 in the CSV it came from).
    """

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
    first_rows: dict[str, int] = field(default_factory=dict)

    @property
    def longest_gap_start(self) -> datetime:
        return datetime.fromtimestamp(self.longest_gap_start_us / 1e6, tz=UTC)

    @property
    def longest_gap_end(self) -> datetime:
        return datetime.fromtimestamp(
            (self.longest_gap_start_us + self.longest_gap_seconds * 1e6) / 1e6, tz=UTC
        )

    @property
    def out_of_order_share(self) -> float:
        return self.out_of_order_local_timestamps / self.rows if self.rows else 0.0

    def values(self) -> dict[str, float]:
        """The measurements the quality rules judge (names as in ``lib/quality/rules.toml``)."""
        return {
            "rows": self.rows,
            "rows_outside_day": self.rows_outside_day,
            "negative_amounts": self.negative_amounts,
            "non_positive_prices": self.non_positive_prices,
            "duplicate_trade_ids": self.duplicate_trade_ids,
            "out_of_order_share": self.out_of_order_share,
            "longest_silence_seconds": self.longest_gap_seconds,
        }

    def first_line(self, name: str) -> int | None:
        row = self.first_rows.get(name)
        return None if row is None else row + LINE_OFFSET

    def details(self) -> dict[str, str]:
        """Where each measurement points: the first offending line, the silence's bounds."""
        out = {
            name: f"(first at line {row + LINE_OFFSET:,})" for name, row in self.first_rows.items()
        }
        out["longest_silence_seconds"] = (
            f"from {self.longest_gap_start:%Y-%m-%d %H:%M:%S} to "
            f"{self.longest_gap_end:%Y-%m-%d %H:%M:%S} UTC"
        )
        return out

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
            "longest_gap_end": self.longest_gap_end.isoformat(),
        }


def _count_sql(data_type: str, day: date) -> str:
    """Counts of order-free problems and, for each, the file row of the first offending row."""
    lo, hi = day_bounds_us(day)
    cols = columns(data_type)
    amounts = [quote_ident(c.name) for c in cols if c.rule is Rule.AMOUNT]
    prices = [quote_ident(c.name) for c in cols if c.rule is Rule.PRICE]

    def any_of(names: list[str], cond: str) -> str:
        return " OR ".join(f"{n} {cond}" for n in names) or "false"

    rules = {
        "rows_outside_day": f"local_timestamp < {lo} OR local_timestamp >= {hi}",
        "negative_amounts": any_of(amounts, "< 0"),
        "non_positive_prices": any_of(prices, "<= 0"),
    }
    parts = ", ".join(
        f"count(*) FILTER (WHERE {cond}), min(file_row_number) FILTER (WHERE {cond})"
        for cond in rules.values()
    )
    return f"SELECT count(*), {parts} FROM read_parquet($p, file_row_number = true)"


_COUNT_RULES = ("rows_outside_day", "negative_amounts", "non_positive_prices")

# Rows repeating an (exchange, id) seen before, and the first such row: the second occurrence
# of each repeated id, the smallest of those. Grouping every (exchange, id) string with its row
# numbers outgrows the connection's memory cap on a day's file, and DuckDB spills it: one 5M-row
# trades file took 5-45 s, one day of two such files grew the page cache by 14 GiB of spill
# files. So the ids are first grouped by their 64-bit hash alone (small fixed-size state, no
# spill at a day's size): ids whose hash is unique cannot repeat, and only the rows of the few
# repeated hashes (true repeats and the rare collision) are grouped exactly. The answer is the
# exact one either way.
_DUPLICATES_SQL = (
    "WITH ids AS (SELECT exchange, id, file_row_number, hash(exchange, id) AS h "
    "FROM read_parquet($p, file_row_number = true) WHERE id IS NOT NULL), "
    "repeated AS (SELECT h FROM ids GROUP BY h HAVING count(*) > 1) "
    "SELECT coalesce(sum(n - 1), 0), min(second) FROM ("
    "SELECT count(*) AS n, min(file_row_number, 2)[2] AS second "
    "FROM ids WHERE h IN (SELECT h FROM repeated) "
    "GROUP BY exchange, id HAVING count(*) > 1)"
)


def _order_and_gaps(con, parquet: Path, day: date) -> tuple[int, int | None, float, int]:
    """Out-of-order rows (and the first one's row), longest silence (seconds, start µs)."""
    lo, hi = day_bounds_us(day)
    reader = con.sql(
        "SELECT local_timestamp FROM read_parquet($p)", params={"p": str(parquet)}
    ).to_arrow_reader(_BATCH_ROWS)
    last: int | None = None
    out_of_order = 0
    first_late: int | None = None
    offset = 0
    running_max = lo  # the day's start opens the first silence
    best_gap, best_start = -1, lo
    for batch in reader:
        ts = batch.column(0).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        if ts.size == 0:
            continue
        late = np.flatnonzero(ts[1:] < ts[:-1]) + 1
        if last is not None and ts[0] < last:
            late = np.concatenate(([0], late))
        if late.size and first_late is None:
            first_late = offset + int(late[0])
        out_of_order += int(late.size)
        last = int(ts[-1])
        offset += ts.size
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
    return out_of_order, first_late, max(best_gap, 0) / 1e6, best_start


def quality_report(parquet_path: Path | str, data_type: str, day: date) -> QualityReport:
    """Everything the quality rules judge about one partition file, in two streaming passes.

    Rows are read in file order (the order tardis received them); rules and limits live in
    ``lib/quality`` so a quiet instrument can have its own.
    """
    path = Path(parquet_path)
    if data_type not in DATA_TYPES:
        raise TardisFileError(path, None, f"unknown data type {data_type!r}")
    if not path.is_file():
        raise TardisFileError(path, None, "no such Parquet file")
    first_rows: dict[str, int] = {}
    with ingest_connection() as con:
        counted = con.sql(_count_sql(data_type, day), params={"p": str(path)}).fetchall()[0]
        rows = int(counted[0])
        counts = {}
        for i, name in enumerate(_COUNT_RULES):
            counts[name] = int(counted[1 + 2 * i])
            if counted[2 + 2 * i] is not None:
                first_rows[name] = int(counted[2 + 2 * i])
        names = {c.name for c in columns(data_type)}
        duplicates = 0
        if {"id", "exchange"} <= names:
            dup, first_dup = con.sql(_DUPLICATES_SQL, params={"p": str(path)}).fetchall()[0]
            duplicates = int(dup)
            if first_dup is not None:
                first_rows["duplicate_trade_ids"] = int(first_dup)
        out_of_order, first_late, gap_s, gap_start = _order_and_gaps(con, path, day)
    if first_late is not None:
        first_rows["out_of_order_share"] = first_late
    return QualityReport(
        path=path,
        data_type=data_type,
        day=day,
        rows=rows,
        rows_outside_day=counts["rows_outside_day"],
        negative_amounts=counts["negative_amounts"],
        non_positive_prices=counts["non_positive_prices"],
        duplicate_trade_ids=duplicates,
        out_of_order_local_timestamps=out_of_order,
        longest_gap_seconds=gap_s,
        longest_gap_start_us=gap_start,
        first_rows=first_rows,
    )
