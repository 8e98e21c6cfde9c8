"""Top of book rebuilt from tardis ``incremental_book_L2`` rows.

Rules, as tardis.dev documents the data set:
- ``amount`` is the new absolute size of the level, not a delta; 0 removes the level.
- a snapshot row (``is_snapshot`` true) that follows a non-snapshot row starts a new book: all
  levels held so far are discarded (the exchange re-sent its book after a reconnect).
- rows before the first snapshot are buffered updates without a base book; they are skipped and
  their output row has no best bid/ask (``book_ready`` false).

The kernel runs in numba with two lazily-cleaned heaps (max-heap of bids, min-heap of asks) over a
price -> amount map, so a day of tens of millions of updates is replayed in seconds rather than in a
Python loop.
"""

from __future__ import annotations

import heapq

import numpy as np
import polars as pl
from numba import njit, types
from numba.typed import Dict, List

BOOK_COLUMNS = (
    "exchange",
    "symbol",
    "timestamp",
    "local_timestamp",
    "book_ready",
    "best_bid_price",
    "best_bid_amount",
    "best_ask_price",
    "best_ask_amount",
)


@njit(cache=True, nogil=True)
def _top(levels, heap, sign):  # pragma: no cover - compiled
    # Heap entries are sign*price; stale entries (level since removed) are dropped lazily.
    while len(heap) > 0:
        price = heap[0] * sign
        if price in levels:
            return price, levels[price]
        heapq.heappop(heap)
    return np.nan, np.nan


@njit(cache=True, nogil=True)
def _replay(is_snapshot, is_bid, price, amount):  # pragma: no cover - compiled
    n = price.shape[0]
    out = np.full((n, 4), np.nan)
    ready = np.zeros(n, dtype=np.bool_)
    bids = Dict.empty(key_type=types.float64, value_type=types.float64)
    asks = Dict.empty(key_type=types.float64, value_type=types.float64)
    bid_heap = List.empty_list(types.float64)  # -price: heapq is a min-heap
    ask_heap = List.empty_list(types.float64)
    started = False
    prev_snapshot = False
    for i in range(n):
        if is_snapshot[i] and not prev_snapshot:
            bids.clear()
            asks.clear()
            bid_heap.clear()
            ask_heap.clear()
            started = True
        prev_snapshot = is_snapshot[i]
        if not started:
            continue
        p = price[i]
        if is_bid[i]:
            levels, heap, sign = bids, bid_heap, -1.0
        else:
            levels, heap, sign = asks, ask_heap, 1.0
        if amount[i] == 0.0:
            if p in levels:
                del levels[p]
        else:
            if p not in levels:
                heapq.heappush(heap, sign * p)
            levels[p] = amount[i]
        # keep heaps from growing without bound on long add/remove churn
        if len(heap) > 4 * len(levels) + 1024:
            heap.clear()
            for q in levels:
                heap.append(sign * q)
            heapq.heapify(heap)
        ready[i] = True
        out[i, 0], out[i, 1] = _top(bids, bid_heap, -1.0)
        out[i, 2], out[i, 3] = _top(asks, ask_heap, 1.0)
    return out, ready


def _replay_one(frame: pl.DataFrame) -> pl.DataFrame:
    side = frame["side"]
    bad_side = ~side.is_in(["bid", "ask"])
    if bad_side.any():
        raise ValueError(
            f"incremental_book_L2 side must be bid/ask, got {side.filter(bad_side)[0]!r}"
        )
    out, ready = _replay(
        frame["is_snapshot"].to_numpy().astype(np.bool_),
        (side == "bid").to_numpy(),
        frame["price"].cast(pl.Float64).to_numpy(),
        frame["amount"].cast(pl.Float64).to_numpy(),
    )
    best = pl.DataFrame(
        {
            "book_ready": ready,
            "best_bid_price": out[:, 0],
            "best_bid_amount": out[:, 1],
            "best_ask_price": out[:, 2],
            "best_ask_amount": out[:, 3],
        }
    ).with_columns(pl.exclude("book_ready").fill_nan(None))
    return pl.concat([frame.select(BOOK_COLUMNS[:4]), best], how="horizontal")


def rebuild_top_of_book(updates: pl.DataFrame, per_message: bool = False) -> pl.DataFrame:
    """Best bid/ask (price, amount) after every incremental_book_L2 row, in input order.

    ``per_message`` keeps one row per exchange message (consecutive rows sharing a
    ``local_timestamp``), i.e. the book as a consumer would see it after the whole message; the
    per-row view can show transient states (e.g. crossed) in the middle of a message.
    Instruments are replayed independently when the frame holds several.
    """
    indexed = updates.with_row_index("_row")
    parts = [
        _replay_one(part).with_columns(part["_row"])
        for part in indexed.partition_by("exchange", "symbol", maintain_order=True)
    ] or [pl.DataFrame(schema={**_empty_schema(), "_row": pl.UInt32})]
    out = pl.concat(parts).sort("_row")
    if per_message:
        nxt = pl.col("local_timestamp").shift(-1).over("exchange", "symbol")
        out = out.filter(nxt.is_null() | (nxt != pl.col("local_timestamp")))
    return out.drop("_row")


def _empty_schema() -> dict[str, pl.DataType]:
    return {
        "exchange": pl.Utf8(),
        "symbol": pl.Utf8(),
        "timestamp": pl.Int64(),
        "local_timestamp": pl.Int64(),
        "book_ready": pl.Boolean(),
        "best_bid_price": pl.Float64(),
        "best_bid_amount": pl.Float64(),
        "best_ask_price": pl.Float64(),
        "best_ask_amount": pl.Float64(),
    }
