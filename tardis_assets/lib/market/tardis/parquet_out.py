"""Checked record batches -> one zstd Parquet file: the write path of every accepted ingest.

The batches of a file (or of the synthetic market) are checked against the row rules in memory
(``arrow_rules``) and written by Arrow's Parquet writer. Reading runs on its own thread, feeding
a short queue: Arrow's CSV reader does not read ahead, so without it every block would wait
for the previous one to be encoded and compressed; with it one core parses while the other
checks and writes (all of it releases the GIL). The queue holds at most a few batches, so
memory stays bounded whatever the file's size.

Batches are gathered into row groups of at least ``ROW_GROUP_ROWS`` rows in stream order, so the
file's rows are in arrival order and the same input always gives the same row groups and the
same bytes. The footer keeps min/max statistics of the integer columns (the ingest summary and
the replay's chunk bounds read timestamps and ``seq`` from it) and no Arrow schema blob, so
every reader sees the plain Parquet types.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tardis_assets.lib.market.tardis.arrow_rules import first_bad_row, first_broken
from tardis_assets.lib.market.tardis.validate import Check, ScanSummary

# Rows per row group, at least (whole batches are added until it is reached). The replay reads a
# row group at a time, so this also bounds what it holds per chunk.
ROW_GROUP_ROWS = 256 * 1024
# Batches waiting for the writer: enough to keep both cores busy, few enough to stay small.
QUEUE_BATCHES = 4


@dataclass(frozen=True)
class ParquetFormat:
    """How the lake's tick files are encoded.

    Measured on a 5M-row incremental_book_L2 file (pyarrow 26): integer columns (timestamps,
    ``seq``) DELTA_BINARY_PACKED instead of dictionary-encoded halve the writer's CPU (a µs
    timestamp is nearly unique, so its dictionary only overflows and falls back) and shrink the
    file by a third; text and float columns keep dictionary encoding (few distinct symbols,
    sides, price levels). Statistics only where a reader uses them (the integer columns):
    min/max of text columns cost a fifth of the writer's CPU on a trades day (its ``id``).
    zstd level 1 and V2 data pages: the file is ~15% smaller than the one DuckDB wrote before
    for the same rows, and DuckDB, polars and pyarrow all read it.
    """

    compression: str = "zstd"
    compression_level: int = 1
    data_page_version: str = "2.0"
    integer_encoding: str = "DELTA_BINARY_PACKED"

    def writer(self, path: Path, schema: pa.Schema) -> pq.ParquetWriter:
        integers = [f.name for f in schema if pa.types.is_integer(f.type)]
        return pq.ParquetWriter(
            path,
            schema,
            compression=self.compression,
            compression_level=self.compression_level,
            data_page_version=self.data_page_version,
            use_dictionary=[f.name for f in schema if f.name not in integers],
            column_encoding=dict.fromkeys(integers, self.integer_encoding),
            write_statistics=integers,
            store_schema=False,
        )


LAKE_FORMAT = ParquetFormat()


class RowRuleBroken(Exception):
    """Row ``row`` of the stream (0-based) breaks ``check``; nothing is published, and the
    caller decides who explains it (a file goes to the precise path, which names the line)."""

    def __init__(self, check: Check, row: int, value: str) -> None:
        self.check, self.row, self.value = check, row, value
        super().__init__(f"row {row:,}: {check.reason.format(value=value)}")


@dataclass
class _Range:
    """Row count and exchange-timestamp range of what was written so far."""

    rows: int = 0
    low: int | None = None
    high: int | None = None

    def add(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        stats = pc.min_max(batch.column("timestamp")).as_py()
        if stats["min"] is not None:
            self.low = stats["min"] if self.low is None else min(self.low, stats["min"])
            self.high = stats["max"] if self.high is None else max(self.high, stats["max"])

    def summary(self) -> ScanSummary:
        return ScanSummary(self.rows, self.low, self.high)


def _row_groups(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[list[pa.RecordBatch]]:
    """Consecutive batches gathered until they hold at least ``rows`` rows (the last: the rest)."""
    group: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        group.append(batch)
        held += batch.num_rows
        if held >= rows:
            yield group
            group, held = [], 0
    if group:
        yield group


def _write(
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    checks: Sequence[Check],
    path: Path,
    fmt: ParquetFormat,
) -> ScanSummary:
    """Check every batch, then write it; the first broken rule raises ``RowRuleBroken``."""
    seen = _Range()

    def checked() -> Iterator[pa.RecordBatch]:
        for batch in batches:
            broken = first_broken(checks, batch)
            if broken is not None:
                bad = first_bad_row(broken, batch)
                row, value = (bad.row, bad.value) if bad else (0, "?")
                raise RowRuleBroken(broken, seen.rows + row, value)
            seen.add(batch)
            yield batch

    with fmt.writer(path, schema) as writer:
        for group in _row_groups(checked(), ROW_GROUP_ROWS):
            table = pa.Table.from_batches(group, schema=schema)
            writer.write_table(table, row_group_size=table.num_rows)
    return seen.summary()


_DONE = object()


def _produce(source: Iterator[pa.RecordBatch], out: queue.Queue, stop: threading.Event) -> None:
    """Pull batches from ``source`` into ``out`` until it ends, fails, or ``stop`` is set."""

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        for batch in source:
            if not put(batch):
                return
    except BaseException as exc:  # handed to the consumer, which re-raises it as its own
        put(exc)
        return
    put(_DONE)


def _drain(out: queue.Queue) -> Iterator[pa.RecordBatch]:
    while True:
        item = out.get()
        if item is _DONE:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def write_checked(
    stream: pa.RecordBatchReader,
    checks: Sequence[Check],
    path: Path,
    fmt: ParquetFormat = LAKE_FORMAT,
) -> ScanSummary:
    """Write ``stream`` to ``path`` as Parquet, every batch checked against ``checks`` first.

    The stream is read on a producer thread (a CSV parse, or the synthetic market's generator)
    while this thread checks and writes. Raises ``RowRuleBroken`` for a broken rule, or whatever
    the stream raised; ``path`` is then incomplete and is the caller's to discard.
    """
    pending: queue.Queue = queue.Queue(maxsize=QUEUE_BATCHES)
    stop = threading.Event()
    producer = threading.Thread(
        target=_produce, args=(iter(stream), pending, stop), name="ingest-read", daemon=True
    )
    producer.start()
    try:
        return _write(_drain(pending), stream.schema, checks, path, fmt)
    finally:
        stop.set()
        producer.join()
