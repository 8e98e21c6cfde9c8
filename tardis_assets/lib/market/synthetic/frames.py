"""Kernel output buffers and their conversion to frames in the exact tardis column layouts.

The kernel writes integers only (ticks, lots, scaled rates; numba has no strings, and integers
keep the book exact); prices and amounts are made here with ``units`` (the double nearest to
each decimal, as a CSV reader would parse it), and the text columns (exchange, symbol, side,
trade id) are added vectorized, once per chunk. Buffers are allocated fresh for every kernel
call, so frames may share their memory and nothing in a frame is overwritten later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from tardis_assets.lib.market.synthetic.book import (
    FLAG_BID,
    FLAG_SNAPSHOT,
    L2_FIELDS,
    L2_FLAGS,
    L2_LOCAL,
    L2_LOTS,
    L2_T,
    L2_TICK,
)
from tardis_assets.lib.market.synthetic.simulate import (
    OUT_L2,
    OUT_QUOTES,
    OUT_SNAPSHOTS,
    OUT_TICKER,
    OUT_TRADES,
    Q_ASK_LOTS,
    Q_ASK_TICK,
    Q_BID_LOTS,
    Q_BID_TICK,
    Q_FIELDS,
    Q_LOCAL,
    Q_T,
    SN_LEVELS,
    SN_LOCAL,
    SN_T,
    SNAPSHOT_DEPTH,
    TR_BUY,
    TR_FIELDS,
    TR_ID,
    TR_LOCAL,
    TR_LOTS,
    TR_T,
    TR_TICK,
)
from tardis_assets.lib.market.synthetic.ticker import (
    TI_FIELDS,
    TI_FUNDING_TS,
    TI_INDEX_E2,
    TI_LAST_TICK,
    TI_LOCAL,
    TI_MARK_E2,
    TI_OPEN_INTEREST_E3,
    TI_PREDICTED_E8,
    TI_RATE_E8,
    TI_T,
)
from tardis_assets.lib.market.synthetic.units import Units, scaled_values
from tardis_assets.lib.market.tardis.schemas import column_names, polars_schema

# tardis data type of each kernel output, in kernel order (OUT_*)
OUTPUT_TYPES: tuple[str, ...] = (
    "incremental_book_L2",
    "quotes",
    "trades",
    "book_snapshot_25",
    "derivative_ticker",
)
Columns = dict[str, np.ndarray | pl.Series]


@dataclass(frozen=True)
class Buffers:
    """One kernel call's output: int64 arrays of (field, row), one per type (0 rows if unused)."""

    l2: np.ndarray
    quotes: np.ndarray
    trades: np.ndarray
    snapshots: np.ndarray
    ticker: np.ndarray

    @classmethod
    def allocate(cls, caps: np.ndarray) -> Buffers:
        """Buffers holding ``caps[i]`` rows of output i (0 for outputs not wanted)."""
        n = [int(c) for c in caps]
        return cls(
            l2=np.empty((L2_FIELDS, n[OUT_L2]), np.int64),
            quotes=np.empty((Q_FIELDS, n[OUT_QUOTES]), np.int64),
            trades=np.empty((TR_FIELDS, n[OUT_TRADES]), np.int64),
            snapshots=np.empty((SN_LEVELS + 4 * SNAPSHOT_DEPTH, n[OUT_SNAPSHOTS]), np.int64),
            ticker=np.empty((TI_FIELDS, n[OUT_TICKER]), np.int64),
        )

    def frame(
        self, data_type: str, rows: int, exchange: str, symbol: str, units: Units
    ) -> pl.DataFrame:
        """The first ``rows`` rows of one output as a tardis-schema frame."""
        if data_type not in _COLUMNS:
            raise ValueError(f"the synthetic market does not make {data_type!r}")
        buffer_of, columns_of = _COLUMNS[data_type]
        body = columns_of(buffer_of(self)[:, :rows], units)
        frame = pl.DataFrame(
            {
                "exchange": pl.repeat(exchange, rows, eager=True, dtype=pl.String),
                "symbol": pl.repeat(symbol, rows, eager=True, dtype=pl.String),
                **body,
            }
        )
        schema = polars_schema(data_type)
        return frame if frame.schema == schema else frame.cast(dict(schema))


def _labels(flags: np.ndarray, yes: str, no: str) -> pl.Series:
    return pl.select(pl.when(pl.Series(flags)).then(pl.lit(yes)).otherwise(pl.lit(no))).to_series()


def _l2(b: np.ndarray, units: Units) -> Columns:
    flags = b[L2_FLAGS]
    return {
        "timestamp": b[L2_T],
        "local_timestamp": b[L2_LOCAL],
        "is_snapshot": (flags & FLAG_SNAPSHOT) != 0,
        "side": _labels((flags & FLAG_BID) != 0, "bid", "ask"),
        "price": units.price.values(b[L2_TICK]),
        "amount": units.amount.values(b[L2_LOTS]),
    }


def _quotes(b: np.ndarray, units: Units) -> Columns:
    return {
        "timestamp": b[Q_T],
        "local_timestamp": b[Q_LOCAL],
        "ask_amount": units.amount.values(b[Q_ASK_LOTS]),
        "ask_price": units.price.values(b[Q_ASK_TICK]),
        "bid_price": units.price.values(b[Q_BID_TICK]),
        "bid_amount": units.amount.values(b[Q_BID_LOTS]),
    }


def _trades(b: np.ndarray, units: Units) -> Columns:
    return {
        "timestamp": b[TR_T],
        "local_timestamp": b[TR_LOCAL],
        "id": pl.Series(b[TR_ID]).cast(pl.String),
        "side": _labels(b[TR_BUY] != 0, "buy", "sell"),
        "price": units.price.values(b[TR_TICK]),
        "amount": units.amount.values(b[TR_LOTS]),
    }


def _snapshots(b: np.ndarray, units: Units) -> Columns:
    ticks, lots = b[SN_LEVELS::2], b[SN_LEVELS + 1 :: 2]  # (50, rows): the schema's pairs
    prices = units.price.values(ticks)
    amounts = units.amount.values(lots)
    missing = ticks < 0  # a side thinner than 25 levels: empty cells, as tardis writes them
    columns: Columns = {"timestamp": b[SN_T], "local_timestamp": b[SN_LOCAL]}
    names = column_names("book_snapshot_25")[4:]
    for i, name in enumerate(names):
        values = prices[i // 2] if i % 2 == 0 else amounts[i // 2]
        gaps = missing[i // 2]
        columns[name] = pl.Series(values).set(pl.Series(gaps), None) if gaps.any() else values
    return columns


def _ticker(b: np.ndarray, units: Units) -> Columns:
    return {
        "timestamp": b[TI_T],
        "local_timestamp": b[TI_LOCAL],
        "funding_timestamp": b[TI_FUNDING_TS],
        "funding_rate": scaled_values(b[TI_RATE_E8], 8),
        "predicted_funding_rate": scaled_values(b[TI_PREDICTED_E8], 8),
        "open_interest": scaled_values(b[TI_OPEN_INTEREST_E3], 3),
        "last_price": units.price.values(b[TI_LAST_TICK]),
        "index_price": scaled_values(b[TI_INDEX_E2], 2),
        "mark_price": scaled_values(b[TI_MARK_E2], 2),
    }


_COLUMNS: dict[str, tuple[Callable[[Buffers], np.ndarray], Callable[..., Columns]]] = {
    "incremental_book_L2": (lambda b: b.l2, _l2),
    "quotes": (lambda b: b.quotes, _quotes),
    "trades": (lambda b: b.trades, _trades),
    "book_snapshot_25": (lambda b: b.snapshots, _snapshots),
    "derivative_ticker": (lambda b: b.ticker, _ticker),
}
