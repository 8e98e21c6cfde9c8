"""Streaming CSV(.gz) -> zstd Parquet, validated, published atomically.

Two readers, one result. The fast path inflates with ISA-L, parses with Arrow's CSV reader,
checks every batch against the row rules in memory and writes it with Arrow's Parquet writer
while the next block is parsed (``parquet_out``); a broken rule stops it. Any failure there
sends the file to the precise path: DuckDB's own ``read_csv`` (explicit types, strict mode),
whose errors carry the CSV line, then a scan of the written Parquet that maps the first bad row
back to its line. Clean files pay one pass; bad files pay two and get a precise message. The
synthetic market's batches (``ingest_batches``) and in-memory frames (``write_parquet``) go
through the same writer, so every tick file of the lake has one format.

Memory stays bounded (8 MiB CSV blocks, a few batches queued, row groups of ~256K rows; DuckDB
capped by ``memory_limit`` on the precise path) for a 50M-row day.
The Parquet file is written next to its destination under a temporary name and renamed over it
only once everything passed: a failure at any step leaves whatever was at ``dest`` untouched.

Gzip is recognised by content, not by name, and inflated within ``InflateLimits`` on both paths
(``inflate.py``): a gzip bomb stops at the limit with its number, never as a parse error.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from tardis_assets.lib.market.tardis.arrow_csv import (
    lake_arrow_schema,
    open_csv_stream,
    with_sequence,
)
from tardis_assets.lib.market.tardis.duck import ingest_connection, translate_error
from tardis_assets.lib.market.tardis.errors import TardisFileError
from tardis_assets.lib.market.tardis.header import (
    check_header,
    describe_header_difference,
    is_gzip,
)
from tardis_assets.lib.market.tardis.inflate import (
    MAX_LINE_BYTES,
    STREAM_ERRORS,
    InflateGuard,
    InflateLimitError,
    InflateLimits,
    scan_gzip,
)
from tardis_assets.lib.market.tardis.parquet_out import RowRuleBroken, write_checked
from tardis_assets.lib.market.tardis.schemas import (
    DATA_TYPES,
    SEQ,
    column_names,
    duckdb_columns,
    lake_schema,
    polars_schema,
)
from tardis_assets.lib.market.tardis.validate import ScanSummary, checks_for, scan_and_check
from tardis_assets.lib.sql import sql_string
from tardis_assets.lib.storage.files import atomic_target

# What a file that is not clean raises on the fast path: Arrow's parser and casts, the row rules,
# gzip streams (zlib, ISA-L). Anything else is a bug and must surface, not be retried silently on
# the slow path.
INPUT_ERRORS: tuple[type[BaseException], ...] = (pa.ArrowException, RowRuleBroken, *STREAM_ERRORS)

# The precise path's own DuckDB files (only for files the fast path refused): zstd level 1 and
# V2 pages, like the fast path's writer.
PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, PARQUET_VERSION V2"


@dataclass(frozen=True)
class IngestResult:
    rows: int
    min_timestamp: int | None  # µs, of the exchange ``timestamp`` column
    max_timestamp: int | None
    dest: Path
    bytes: int
    # What the ingest log should say about an accepted file (a plain CSV named .gz, ...).
    notes: tuple[str, ...] = field(default=())


def require_data_type(path: Path | str, data_type: str) -> None:
    if data_type not in DATA_TYPES:
        raise TardisFileError(
            path, None, f"unknown data type {data_type!r}; known: {', '.join(DATA_TYPES)}"
        )


def _read_csv_sql(data_type: str, gz: bool) -> str:
    # strict_mode + explicit columns: a row with too many/few fields or an unparsable value is an
    # error with its line number instead of being silently padded or sniffed into VARCHAR.
    return (
        "SELECT * FROM read_csv($src, columns = $cols, header = true, auto_detect = false, "
        "delim = ',', quote = '\"', escape = '\"', nullstr = '', strict_mode = true, "
        f"max_line_size = {MAX_LINE_BYTES}, compression = '{'gzip' if gz else 'none'}')"
    )


def _copy_fast(
    src: Path,
    data_type: str,
    tmp: Path,
    gz: bool,
    day: date | None,
    limits: InflateLimits,
) -> ScanSummary | None:
    """CSV -> validated Parquet through the Arrow reader, every batch checked before it is written.

    Returns None when the file is not clean (a parse error or a broken row rule): the precise
    path then redoes it and names the line. An inflate limit is final: it raises here.
    """
    guard = InflateGuard(src, limits) if gz else None
    try:
        with open_csv_stream(guard or src, data_type) as stream:
            summary = write_checked(stream, checks_for(data_type, day), tmp)
    except InflateLimitError:
        raise
    except INPUT_ERRORS:  # a parse, inflate or rule error: the precise path explains it
        # Arrow calls the guard from its own threads and may rewrap its error.
        if guard is not None and guard.exceeded is not None:
            raise guard.exceeded from None
        return None
    finally:
        if guard is not None:
            guard.close()
    if summary.rows == 0:
        return None  # the precise path raises the "empty" error
    return summary


def _copy_precise(
    con: duckdb.DuckDBPyConnection, src: Path, data_type: str, tmp: Path, gz: bool
) -> None:
    """CSV -> Parquet with DuckDB's reader, whose errors carry the CSV line number.

    DuckDB's parallel CSV reader cannot number rows, so the rows go to an intermediate file in
    file order first and get their ``seq`` from its row numbers; this path only runs for files
    the fast path refused, so the second pass costs nothing on clean files.
    """
    tmp.unlink(missing_ok=True)
    raw = tmp.with_name(tmp.name + ".rows")
    copy = f"COPY ({_read_csv_sql(data_type, gz)}) TO {sql_string(raw)} ({PARQUET_OPTIONS})"
    failure: TardisFileError | None = None
    try:
        try:
            con.sql(copy, params={"src": str(src), "cols": duckdb_columns(data_type)})
        except duckdb.Error as exc:
            failure = translate_error(src, exc)
        if failure is not None:
            raise failure
        number = (
            f"SELECT * EXCLUDE (file_row_number), file_row_number AS {SEQ} "
            f"FROM read_parquet({sql_string(raw)}, file_row_number = true)"
        )
        con.sql(f"COPY ({number}) TO {sql_string(tmp)} ({PARQUET_OPTIONS})")
    finally:
        raw.unlink(missing_ok=True)


def _compression_notes(src: Path, gz: bool) -> tuple[str, ...]:
    """A file whose name and content disagree about gzip is read by its content; say so."""
    named_gz = src.name.lower().endswith(".gz")
    if named_gz and not gz:
        return (f"{src.name} is named .gz but is a plain CSV file: read as plain text",)
    if gz and not named_gz:
        return (f"{src.name} is gzip-compressed although not named .gz: inflated",)
    return ()


def ingest_file(
    path: Path | str,
    data_type: str,
    dest: Path | str,
    *,
    day: date | None = None,
    limits: InflateLimits | None = None,
) -> IngestResult:
    """Stream one tardis CSV/.csv.gz into ONE zstd Parquet file at ``dest``, validated, atomically.

    ``day`` (the partition) makes every row's local_timestamp fall within that UTC day, the way
    tardis splits its files; a file for another date is rejected. ``limits`` bound how far a gzip
    file may inflate (default: ``InflateLimits()``).
    """
    src, dest = Path(path), Path(dest)
    limits = limits or InflateLimits()
    require_data_type(src, data_type)
    check_header(src, data_type, column_names(data_type))
    gz = is_gzip(src)
    with atomic_target(dest) as tmp:
        summary = _copy_fast(src, data_type, tmp, gz, day, limits)
        if summary is None:
            if gz:
                # DuckDB inflates by itself on this path: the limits, a truncated stream and
                # over-long lines are judged first, with the line they are on.
                scan_gzip(src, limits)
            with ingest_connection() as con:
                _copy_precise(con, src, data_type, tmp, gz)
                summary = scan_and_check(con, tmp, data_type, day, report_path=src)
    return IngestResult(
        summary.rows,
        summary.min_timestamp,
        summary.max_timestamp,
        dest,
        dest.stat().st_size,
        _compression_notes(src, gz),
    )


def ingest_batches(
    batches: pa.RecordBatchReader, data_type: str, dest: Path | str, *, day: date | None = None
) -> IngestResult:
    """Stream record batches of one tardis type (its published columns, in arrival order) into
    ONE validated zstd Parquet file at ``dest``, atomically, in bounded memory.

    The synthetic market uses this to write a day of any size without a CSV in between; the
    rows get their ``seq`` and pass the same rules and the same writer as a file. A broken rule
    here is a bug of the producer, reported with the first bad row's ``seq`` and the reason.
    """
    dest = Path(dest)
    require_data_type(dest, data_type)
    expected = column_names(data_type)
    if batches.schema.names != expected:
        raise TardisFileError(
            dest, None, describe_header_difference(data_type, expected, batches.schema.names)
        )
    with atomic_target(dest) as tmp:
        try:
            summary = write_checked(with_sequence(batches), checks_for(data_type, day), tmp)
        except RowRuleBroken as exc:
            reason = exc.check.reason.format(value=exc.value)
            raise TardisFileError(
                dest, None, f"generated rows break a rule at {SEQ} {exc.row}: {reason}"
            ) from None
        if summary.rows == 0:
            raise TardisFileError(dest, None, "empty: no rows")
    return IngestResult(
        summary.rows, summary.min_timestamp, summary.max_timestamp, dest, dest.stat().st_size
    )


def conform_frame(frame: pl.DataFrame, data_type: str, where: Path) -> pl.DataFrame:
    """Exact published columns in order, cast to the reader's dtypes, plus ``seq`` (the frame's
    row order is its arrival order); refuse anything else."""
    expected = column_names(data_type)
    if frame.columns != expected:
        raise TardisFileError(
            where, 1, describe_header_difference(data_type, expected, frame.columns)
        )
    try:
        return frame.cast(dict(polars_schema(data_type)), strict=True).with_columns(
            pl.int_range(pl.len(), dtype=pl.Int64).alias(SEQ)
        )
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as exc:
        raise TardisFileError(
            where, None, f"cannot cast frame to {data_type} schema: {exc}"
        ) from None


def write_parquet(frame: pl.DataFrame, data_type: str, dest: Path | str) -> IngestResult:
    """Same casts, validation and atomic publish as ingest_file, for frames built in memory.

    Reported line numbers are those the row would have in the equivalent CSV (frame row + 2).
    """
    dest = Path(dest)
    require_data_type(dest, data_type)
    table = conform_frame(frame, data_type, dest).to_arrow().cast(lake_arrow_schema(data_type))
    with atomic_target(dest) as tmp, ingest_connection() as con:
        # Written unchecked by the same writer as a file, then scanned: the scan names the line.
        write_checked(pa.RecordBatchReader.from_batches(table.schema, table.to_batches()), (), tmp)
        summary = scan_and_check(con, tmp, data_type, None, report_path=dest)
    return IngestResult(
        summary.rows, summary.min_timestamp, summary.max_timestamp, dest, dest.stat().st_size
    )


def read_file(
    path: Path | str, data_type: str, *, day: date | None = None, with_seq: bool = False
) -> pl.DataFrame:
    """Whole file as a frame with full validation; for small files and tests.

    It goes through ingest_file into a throw-away Parquet file so both paths share one parser and
    one set of rules: the frame is what the lake holds, in file order (``with_seq`` keeps the
    lake's ``seq`` column, which is then the row index).
    """
    with tempfile.TemporaryDirectory(prefix="tardis-read-") as tmp:
        result = ingest_file(path, data_type, Path(tmp) / "part.parquet", day=day)
        frame = pl.read_parquet(result.dest)
    if with_seq:
        return frame.cast(dict(lake_schema(data_type)))
    return frame.drop(SEQ).cast(dict(polars_schema(data_type)))
