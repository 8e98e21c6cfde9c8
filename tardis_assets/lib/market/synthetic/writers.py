"""Synthetic days as tardis-dev CSV files, or as Arrow record batches for direct ingest.

CSV files are written the way the tardis-dev client names and lays them out (header line exactly
the schema's column names, ``{exchange}_{data_type}_{YYYY-MM-DD}_{SYMBOL}.csv[.gz]``), chunk by
chunk, so a 50M-event day never sits in memory. Lines are made from the kernel's integer buffers
by the numba encoders of ``csv_rows`` (no frames, no float formatting); the next chunk is
simulated in a worker thread while this one is encoded and compressed (both kernels release the
GIL). Each file appears under its final name only once it is complete. ``.gz`` goes through
ISA-L, several times faster than zlib at level 1.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa

from tardis_assets.lib.market.synthetic.csv_rows import (
    l2_lines,
    line_bytes,
    quote_lines,
    snapshot_lines,
    ticker_lines,
    trade_lines,
)
from tardis_assets.lib.market.synthetic.frames import Buffers
from tardis_assets.lib.market.synthetic.market import SYNTHETIC_TYPES, SyntheticMarket
from tardis_assets.lib.market.synthetic.stream import DEFAULT_MAX_ROWS, read_ahead, stream_buffers
from tardis_assets.lib.market.tardis.arrow_csv import arrow_schema
from tardis_assets.lib.market.tardis.naming import tardis_filename
from tardis_assets.lib.market.tardis.schemas import column_names


@dataclass(frozen=True)
class CsvFile:
    path: Path
    rows: int  # data rows (the header line not counted)


@dataclass(frozen=True)
class _Encoder:
    """How one type's buffer becomes CSV lines, and how long a line can be."""

    buffer: Callable[[Buffers], np.ndarray]
    lines: Callable[..., int]
    numbers: int
    words: int


_ENCODERS = {
    "incremental_book_L2": _Encoder(lambda b: b.l2, l2_lines, 4, 2),
    "quotes": _Encoder(lambda b: b.quotes, quote_lines, 6, 0),
    "trades": _Encoder(lambda b: b.trades, trade_lines, 5, 1),
    "book_snapshot_25": _Encoder(lambda b: b.snapshots, snapshot_lines, 102, 0),
    "derivative_ticker": _Encoder(lambda b: b.ticker, ticker_lines, 9, 0),
}


def _open_output(path: Path, gz: bool) -> IO[bytes]:
    if not gz:
        return path.open("wb")
    try:
        from isal import igzip
    except ImportError:  # isal is a dependency; plain zlib keeps the writer working without it
        import gzip

        return gzip.open(path, "wb", compresslevel=1)
    return igzip.open(path, "wb", compresslevel=1)


def write_day_csv(
    market: SyntheticMarket,
    exchange: str,
    symbol: str,
    day: date,
    directory: Path | str,
    data_types: Collection[str] = SYNTHETIC_TYPES,
    *,
    gz: bool = True,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> dict[str, CsvFile]:
    """Write one instrument-day of several types from a single book run, one file per type."""
    folder = Path(directory)
    types = list(dict.fromkeys(data_types))
    unknown = sorted(set(types) - set(_ENCODERS))
    if unknown:
        raise ValueError(
            f"the synthetic market does not make {unknown}; it makes {SYNTHETIC_TYPES}"
        )
    if any(c in f"{exchange}{symbol}" for c in ',"\r\n'):
        raise ValueError(
            f"exchange and symbol go unquoted into CSV lines: {exchange!r}, {symbol!r}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    paths = {t: folder / tardis_filename(exchange, t, day, symbol, gz=gz) for t in types}
    partial = {t: p.with_name(f".{p.name}.partial") for t, p in paths.items()}
    rows = dict.fromkeys(types, 0)
    plan = market.plan(exchange, symbol, day)
    units = plan.units.as_array()
    key = f"{exchange},{symbol},".encode()  # the constant start of every line
    prefix = np.frombuffer(key, dtype=np.uint8)
    try:
        with ExitStack() as stack:
            files = {t: stack.enter_context(_open_output(partial[t], gz)) for t in types}
            for t in types:
                files[t].write((",".join(column_names(t)) + "\n").encode())
            for buffers, filled in read_ahead(stream_buffers(plan, types, max_rows)):
                for t, n in filled.items():
                    if n == 0:
                        continue
                    enc = _ENCODERS[t]
                    out = np.empty(n * line_bytes(key, enc.numbers, enc.words), np.uint8)
                    size = enc.lines(enc.buffer(buffers), n, prefix, units, out)
                    files[t].write(memoryview(out[:size]))
                    rows[t] += n
        for t in types:
            os.replace(partial[t], paths[t])
    finally:
        for p in partial.values():
            p.unlink(missing_ok=True)
    return {t: CsvFile(paths[t], rows[t]) for t in types}


def write_csv(
    market: SyntheticMarket,
    data_type: str,
    exchange: str,
    symbol: str,
    day: date,
    directory: Path | str,
    *,
    gz: bool = True,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> Path:
    """Write one (type, exchange, symbol, day) as a tardis CSV(.gz) file; returns its path."""
    files = write_day_csv(
        market, exchange, symbol, day, directory, (data_type,), gz=gz, max_rows=max_rows
    )
    return files[data_type].path


def record_batches(
    market: SyntheticMarket,
    data_type: str,
    exchange: str,
    symbol: str,
    day: date,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> pa.RecordBatchReader:
    """One instrument-day of one type as an Arrow stream in the tardis reader's schema.

    The schema is the one the CSV reader produces (``arrow_csv.arrow_schema``), so a consumer
    (DuckDB ``COPY``, the lake writer) sees the same columns and types as from a file.
    """
    schema = arrow_schema(data_type)

    def batches() -> Iterator[pa.RecordBatch]:
        for frame in market.chunks(data_type, exchange, symbol, day, max_rows):
            yield from frame.to_arrow().cast(schema).to_batches()

    return pa.RecordBatchReader.from_batches(schema, batches())
