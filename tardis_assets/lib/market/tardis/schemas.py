"""Published column layouts of the tardis.dev downloadable CSV files, one per data type.

The names and order are the ones tardis.dev documents ("Downloadable CSV files" / data types) and
that the real excerpts in the shared fixtures carry; the header check compares against them
verbatim, so a renamed or reordered column fails loudly instead of landing in the wrong field.
Each column also says how it is typed and which value rules apply, so readers, the Parquet
writer and the quality report share one definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl


class Kind(Enum):
    """Storage kind of a column; timestamps stay integer µs so no precision or timezone is lost."""

    TEXT = "VARCHAR"
    MICROS = "BIGINT"
    NUMBER = "DOUBLE"
    FLAG = "BOOLEAN"


class Rule(Enum):
    """Value rule a numeric column obeys when it has a value."""

    NONE = "none"
    PRICE = "price"  # strictly positive
    AMOUNT = "amount"  # zero or positive


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    rule: Rule = Rule.NONE
    required: bool = False  # empty cell not allowed


DATA_TYPES: tuple[str, ...] = (
    "trades",
    "quotes",
    "book_snapshot_5",
    "book_snapshot_25",
    "incremental_book_L2",
    "derivative_ticker",
    "liquidations",
    "options_chain",
)

_T, _U, _N, _F = Kind.TEXT, Kind.MICROS, Kind.NUMBER, Kind.FLAG
_P, _A = Rule.PRICE, Rule.AMOUNT

_KEY: tuple[Column, ...] = (
    Column("exchange", _T, required=True),
    Column("symbol", _T, required=True),
    Column("timestamp", _U, required=True),
    Column("local_timestamp", _U, required=True),
)

_TRADE_LIKE: tuple[Column, ...] = (
    *_KEY,
    Column("id", _T),
    Column("side", _T, required=True),
    Column("price", _N, _P, required=True),
    Column("amount", _N, _A, required=True),
)


def _book_levels(depth: int) -> tuple[Column, ...]:
    # Levels are interleaved per depth (asks[i] then bids[i]); a side with fewer levels than the
    # depth leaves those cells empty, which tardis allows.
    cols: list[Column] = []
    for i in range(depth):
        cols += [
            Column(f"asks[{i}].price", _N, _P),
            Column(f"asks[{i}].amount", _N, _A),
            Column(f"bids[{i}].price", _N, _P),
            Column(f"bids[{i}].amount", _N, _A),
        ]
    return tuple(cols)


SCHEMAS: dict[str, tuple[Column, ...]] = {
    "trades": _TRADE_LIKE,
    "liquidations": _TRADE_LIKE,
    "quotes": (
        *_KEY,
        Column("ask_amount", _N, _A),
        Column("ask_price", _N, _P),
        Column("bid_price", _N, _P),
        Column("bid_amount", _N, _A),
    ),
    "book_snapshot_5": (*_KEY, *_book_levels(5)),
    "book_snapshot_25": (*_KEY, *_book_levels(25)),
    "incremental_book_L2": (
        *_KEY,
        Column("is_snapshot", _F, required=True),
        Column("side", _T, required=True),
        Column("price", _N, _P, required=True),
        Column("amount", _N, _A, required=True),  # 0 removes the level
    ),
    "derivative_ticker": (
        *_KEY,
        Column("funding_timestamp", _U),
        Column("funding_rate", _N),
        Column("predicted_funding_rate", _N),
        Column("open_interest", _N, _A),
        Column("last_price", _N, _P),
        Column("index_price", _N, _P),
        Column("mark_price", _N, _P),
    ),
    "options_chain": (
        *_KEY,
        Column("type", _T, required=True),
        Column("strike_price", _N, _P, required=True),
        Column("expiration", _U, required=True),
        Column("open_interest", _N, _A),
        Column("last_price", _N, _P),
        Column("bid_price", _N, _P),
        Column("bid_amount", _N, _A),
        Column("bid_iv", _N),
        Column("ask_price", _N, _P),
        Column("ask_amount", _N, _A),
        Column("ask_iv", _N),
        Column("mark_price", _N, _P),
        Column("mark_iv", _N),
        Column("underlying_index", _T),
        Column("underlying_price", _N, _P),
        Column("delta", _N),
        Column("gamma", _N),
        Column("vega", _N),
        Column("theta", _N),
        Column("rho", _N),
    ),
}

# Allowed values of categorical text columns; anything else is a parsing problem upstream.
ALLOWED_VALUES: dict[str, dict[str, tuple[str, ...]]] = {
    "trades": {"side": ("buy", "sell", "unknown")},
    "liquidations": {"side": ("buy", "sell", "unknown")},
    "incremental_book_L2": {"side": ("bid", "ask")},
    "options_chain": {"type": ("put", "call")},
}

# The polars type of each kind, by name: the settings read ``DATA_TYPES`` in processes that never
# build a frame, so polars is imported only by the functions below.
_POLARS: dict[Kind, str] = {
    Kind.TEXT: "Utf8",
    Kind.MICROS: "Int64",
    Kind.NUMBER: "Float64",
    Kind.FLAG: "Boolean",
}


# The lake keeps one column more than the CSV: each row's 0-based position in its source file.
# tardis writes rows in the order they were received, and many rows share one exchange
# timestamp (a millisecond exchange writes ``...000`` microseconds for a whole burst), so "first"
# and "last" within a timestamp exist only through this column: every ordering of lake rows is
# (timestamp, seq), never the timestamp alone.
SEQ = "seq"


def columns(data_type: str) -> tuple[Column, ...]:
    """Columns of ``data_type`` in published order; KeyError-free callers check DATA_TYPES first."""
    return SCHEMAS[data_type]


def column_names(data_type: str) -> list[str]:
    return [c.name for c in SCHEMAS[data_type]]


def polars_schema(data_type: str) -> pl.Schema:
    """The exact frame schema every reader returns for ``data_type``."""
    import polars as pl

    return pl.Schema({c.name: getattr(pl, _POLARS[c.kind])() for c in SCHEMAS[data_type]})


def lake_column_names(data_type: str) -> list[str]:
    """Columns of a lake file: the published ones, then ``seq`` (arrival order)."""
    return [*column_names(data_type), SEQ]


def lake_schema(data_type: str) -> pl.Schema:
    """The frame schema of a lake file (published columns plus ``seq``)."""
    import polars as pl

    return pl.Schema({**polars_schema(data_type), SEQ: pl.Int64()})


def duckdb_columns(data_type: str) -> dict[str, str]:
    """``read_csv(columns=...)`` mapping: explicit types so nothing is sniffed from a sample."""
    return {c.name: c.kind.value for c in SCHEMAS[data_type]}
