"""Where the replayed events come from: lake Parquet files (or in-memory frames) as column chunks.

A replay never holds a whole day: each data type is read one Parquet row group (or one slice of a
frame) at a time, as plain numpy columns. Lake files keep the tardis columns in arrival order;
an optional ``seq`` column (0-based row of the source file) is read when present and is then the
arrival order. The per-chunk minima of ``timestamp``, ``local_timestamp`` and ``seq`` (from the
Parquet statistics when written, else from one pass over that column) tell the merger how far it
may emit events without waiting for later chunks.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tardis_assets.lib.market.tardis.naming import lake_path
from tardis_assets.lib.market.tardis.schemas import column_names

# Data types a replay uses as events; derivative_ticker is read whole for funding.
EVENT_TYPES = ("trades", "quotes", "incremental_book_L2", "book_snapshot_25", "book_snapshot_5")
FUNDING_TYPE = "derivative_ticker"
SEQ = "seq"
FRAME_CHUNK_ROWS = 65_536
US_PER_DAY = 86_400_000_000

TRADE_SIDES = {"buy": 1, "sell": -1, "unknown": 0}
BOOK_SIDES = {"bid": 1, "ask": 0}
UNKNOWN_CODE = 127

Part = Path | pl.DataFrame


@dataclass(frozen=True)
class MarketData:
    """One instrument over ``[start_us, end_us)``: per data type, its parts in time order.

    A part is a lake Parquet file (one UTC day) or a frame in the tardis layout (tests). Parts of
    one type are replayed back to back, so a range of days is one continuous replay.
    """

    exchange: str
    symbol: str
    start_us: int
    end_us: int
    parts: dict[str, tuple[Part, ...]] = field(default_factory=dict)
    chunk_rows: int = FRAME_CHUNK_ROWS

    def __post_init__(self) -> None:
        if self.end_us <= self.start_us:
            raise ValueError(f"end_us {self.end_us} must be after start_us {self.start_us}")
        unknown = [t for t in self.parts if t not in (*EVENT_TYPES, FUNDING_TYPE)]
        if unknown:
            raise ValueError(
                f"unsupported data type(s) {unknown}; use {EVENT_TYPES} or {FUNDING_TYPE}"
            )
        if self.chunk_rows <= 0:
            raise ValueError(f"chunk_rows must be > 0, got {self.chunk_rows}")

    def has(self, data_type: str) -> bool:
        return bool(self.parts.get(data_type))


def day_start_us(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1_000_000)


def lake_market(
    lake_root: Path | str, exchange: str, symbol: str, days: date | Sequence[date]
) -> MarketData:
    """The lake files of one instrument for consecutive ``days`` (every type that exists)."""
    day_list = [days] if isinstance(days, date) else sorted(days)
    if not day_list:
        raise ValueError("lake_market needs at least one day")
    for a, b in itertools.pairwise(day_list):
        if b - a != timedelta(days=1):
            raise ValueError(f"days must be consecutive; {a} is followed by {b}")
    parts: dict[str, tuple[Part, ...]] = {}
    for data_type in (*EVENT_TYPES, FUNDING_TYPE):
        found = [lake_path(lake_root, data_type, exchange, symbol, d) for d in day_list]
        present = [p for p in found if p.is_file()]
        if present and len(present) != len(found):
            missing = [str(p) for p in found if not p.is_file()]
            raise ValueError(f"{data_type}: some days of the range have no lake file: {missing}")
        if present:
            parts[data_type] = tuple(present)
    if not any(t in parts for t in EVENT_TYPES):
        raise ValueError(
            f"no lake file for {exchange} {symbol} on {day_list[0]}..{day_list[-1]} under "
            f"{lake_root} (looked for {', '.join(EVENT_TYPES)})"
        )
    start = day_start_us(day_list[0])
    return MarketData(exchange, symbol, start, start + len(day_list) * US_PER_DAY, parts)


def frame_market(
    exchange: str,
    symbol: str,
    start_us: int,
    end_us: int,
    frames: dict[str, pl.DataFrame],
    chunk_rows: int = FRAME_CHUNK_ROWS,
) -> MarketData:
    """In-memory frames in the tardis layout as a replay source (rows in arrival order)."""
    parts: dict[str, tuple[Part, ...]] = {}
    for data_type, frame in frames.items():
        if frame is None:
            continue
        if data_type not in (*EVENT_TYPES, FUNDING_TYPE):
            raise ValueError(
                f"unsupported data type {data_type!r}; use {EVENT_TYPES} or {FUNDING_TYPE}"
            )
        if not isinstance(frame, pl.DataFrame):
            raise ValueError(f"{data_type}: expected a polars DataFrame, got {type(frame)}")
        need = [c for c in _needed_columns(data_type) if c not in frame.columns]
        if need:
            raise ValueError(f"{data_type} frame lacks column(s) {need}")
        parts[data_type] = (frame,)
    return MarketData(exchange, symbol, start_us, end_us, parts, chunk_rows)


def _needed_columns(data_type: str) -> list[str]:
    names = column_names(data_type)
    return [c for c in names if c not in ("exchange", "symbol", "id")]


def _describe(part: Part) -> str:
    return str(part) if isinstance(part, Path) else "frame"


@dataclass(frozen=True)
class ChunkBounds:
    """Per chunk, in replay order: rows and the minima that bound what later chunks can hold."""

    rows: np.ndarray
    min_ts: np.ndarray
    min_lts: np.ndarray
    min_seq: np.ndarray
    has_seq: bool


def _parquet_min(meta: pq.FileMetaData, g: int, col: int) -> int | None:
    stats = meta.row_group(g).column(col).statistics
    if stats is None or not stats.has_min_max:
        return None
    return int(stats.min)


def chunk_bounds(data: MarketData, data_type: str) -> ChunkBounds:
    """Row counts and minima of every chunk of ``data_type`` (all parts, in order)."""
    rows: list[int] = []
    mins: dict[str, list[int]] = {"timestamp": [], "local_timestamp": [], SEQ: []}
    has_seq: set[bool] = set()
    offset = 0  # rows before the chunk: its arrival position when there is no seq column
    for part in data.parts.get(data_type, ()):
        part_start = offset  # seq restarts in every file: later parts come after earlier ones
        if isinstance(part, Path):
            pf = pq.ParquetFile(part)
            names = pf.schema_arrow.names
            has_seq.add(SEQ in names)
            for g in range(pf.metadata.num_row_groups):
                n = pf.metadata.row_group(g).num_rows
                rows.append(n)
                for name in mins:
                    if name not in names:
                        mins[name].append(offset)
                        continue
                    value = _parquet_min(pf.metadata, g, names.index(name))
                    if value is None:
                        col = pf.read_row_group(g, columns=[name]).column(0)
                        value = int(pc.min(col).as_py()) if n else np.iinfo(np.int64).max
                    mins[name].append(value + (part_start if name == SEQ else 0))
                offset += n
        else:
            has_seq.add(SEQ in part.columns)
            for lo in range(0, max(part.height, 1), data.chunk_rows):
                piece = part.slice(lo, data.chunk_rows)
                n = piece.height
                rows.append(n)
                for name in mins:
                    if name == SEQ and SEQ not in part.columns:
                        mins[name].append(offset)
                    elif n == 0:
                        mins[name].append(np.iinfo(np.int64).max)
                    else:
                        extra = part_start if name == SEQ else 0
                        mins[name].append(int(piece.get_column(name).min()) + extra)
                offset += n
    if len(has_seq) > 1:
        raise ValueError(f"{data_type}: some parts have a {SEQ!r} column and some do not")
    return ChunkBounds(
        rows=np.asarray(rows, dtype=np.int64),
        min_ts=np.asarray(mins["timestamp"], dtype=np.int64),
        min_lts=np.asarray(mins["local_timestamp"], dtype=np.int64),
        min_seq=np.asarray(mins[SEQ], dtype=np.int64),
        has_seq=bool(has_seq and has_seq.pop()),
    )


def _codes(values: pa.ChunkedArray | pa.Array, mapping: dict[str, int], what: str) -> np.ndarray:
    """Map a (dictionary-encoded) text column to small integer codes; unknown text is an error."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr)
    words = arr.dictionary.to_pylist()
    table = np.array([mapping.get(w, UNKNOWN_CODE) for w in words] or [0], dtype=np.int8)
    codes = table[arr.indices.to_numpy(zero_copy_only=False)]
    if words and (table == UNKNOWN_CODE).any():
        bad = codes == UNKNOWN_CODE
        if bad.any():
            word = words[int(arr.indices[int(np.argmax(bad))].as_py())]
            raise ValueError(f"{what}: unknown value {word!r}; expected {sorted(mapping)}")
    return codes


def _floats(table: pa.Table, name: str) -> np.ndarray:
    col = table.column(name)
    if col.null_count:
        col = pc.fill_null(col.cast(pa.float64()), float("nan"))
    return np.ascontiguousarray(col.to_numpy(), dtype=np.float64)


def _ints(table: pa.Table, name: str) -> np.ndarray:
    col = table.column(name)
    if col.null_count:
        raise ValueError(f"column {name!r} has nulls")
    return np.ascontiguousarray(col.to_numpy(), dtype=np.int64)


def book_depth(data_type: str) -> int:
    """Levels per side of a book_snapshot_N type."""
    return int(data_type.rsplit("_", 1)[1])


def _convert(
    table: pa.Table, data_type: str, where: str, seq0: int, part_start: int
) -> dict[str, np.ndarray]:
    """Arrow columns of one chunk -> the numpy columns the flatteners take.

    ``seq`` is the arrival position over all parts: the file's own ``seq`` after the rows of
    the earlier parts (``part_start``), or the row position (``seq0`` = rows before the chunk).
    """
    n = table.num_rows
    out: dict[str, np.ndarray] = {
        "timestamp": _ints(table, "timestamp"),
        "local_timestamp": _ints(table, "local_timestamp"),
    }
    if SEQ in table.column_names:
        out[SEQ] = _ints(table, SEQ) + part_start
    else:
        out[SEQ] = np.arange(seq0, seq0 + n, dtype=np.int64)
    if data_type == "trades":
        out["side"] = _codes(table.column("side"), TRADE_SIDES, f"{where} trades side")
        out["price"] = _floats(table, "price")
        out["amount"] = _floats(table, "amount")
    elif data_type == "incremental_book_L2":
        out["is_bid"] = _codes(table.column("side"), BOOK_SIDES, f"{where} book side")
        snap = table.column("is_snapshot")
        out["is_snapshot"] = np.ascontiguousarray(
            pc.fill_null(snap, False).to_numpy(zero_copy_only=False), dtype=np.bool_
        )
        out["price"] = _floats(table, "price")
        out["amount"] = _floats(table, "amount")
    elif data_type == "quotes":
        for name in ("bid_price", "bid_amount", "ask_price", "ask_amount"):
            out[name] = _floats(table, name)
    else:
        depth = book_depth(data_type)
        for side in ("bids", "asks"):
            for what in ("price", "amount"):
                cols = [_floats(table, f"{side}[{i}].{what}") for i in range(depth)]
                out[f"{side}_{what}"] = (
                    np.ascontiguousarray(np.stack(cols, axis=1)) if n else np.zeros((0, depth))
                )
    return out


def _read_columns(data_type: str, names: Sequence[str]) -> list[str]:
    cols = _needed_columns(data_type)
    if SEQ in names:
        cols.append(SEQ)
    return cols


def iter_chunks(data: MarketData, data_type: str) -> Iterator[dict[str, np.ndarray]]:
    """Numpy columns of each chunk of ``data_type``, in the order `chunk_bounds` lists them."""
    offset = 0
    for part in data.parts.get(data_type, ()):
        where = _describe(part)
        part_start = offset
        if isinstance(part, Path):
            dictionary = [c for c in ("side",) if c in column_names(data_type)]
            pf = pq.ParquetFile(part, read_dictionary=dictionary)
            cols = _read_columns(data_type, pf.schema_arrow.names)
            for g in range(pf.metadata.num_row_groups):
                table = pf.read_row_group(g, columns=cols, use_threads=False)
                yield _convert(table, data_type, where, offset, part_start)
                offset += table.num_rows
        else:
            cols = _read_columns(data_type, part.columns)
            for lo in range(0, max(part.height, 1), data.chunk_rows):
                piece = part.slice(lo, data.chunk_rows).select(cols)
                yield _convert(piece.to_arrow(), data_type, where, offset, part_start)
                offset += piece.height


def read_whole(data: MarketData, data_type: str) -> pl.DataFrame | None:
    """All rows of a small type (derivative_ticker) as one frame, or None when absent."""
    parts = data.parts.get(data_type, ())
    if not parts:
        return None
    frames = [pl.read_parquet(p) if isinstance(p, Path) else p for p in parts]
    return pl.concat(frames, how="vertical_relaxed")


def _sample(
    data: MarketData, data_type: str, suffix: str, limit: int, *, positive: bool
) -> np.ndarray:
    """Up to ``limit`` finite (and, if asked, positive) values of the ``*suffix`` columns of a
    type's first chunk."""
    for chunk in iter_chunks(data, data_type):
        values = [chunk[k].ravel() for k in chunk if k.endswith(suffix)]
        if not values:
            return np.zeros(0)
        flat = np.concatenate(values)
        keep = np.isfinite(flat) & (flat > 0) if positive else np.isfinite(flat)
        return flat[keep][:limit]
    return np.zeros(0)


def sample_prices(data: MarketData, data_type: str, limit: int = 4096) -> np.ndarray:
    """Up to ``limit`` prices from the first chunk of a type (for tick-size inference)."""
    return _sample(data, data_type, "price", limit, positive=False)


def sample_amounts(data: MarketData, data_type: str, limit: int = 4096) -> np.ndarray:
    """Up to ``limit`` positive amounts from the first chunk of a type (for lot inference)."""
    return _sample(data, data_type, "amount", limit, positive=True)
