"""One event layout for every tardis data type, and the numba kernels that flatten rows into it.

An event is five parallel columns: exchange ``ts``, arrival ``lts``, ``kind``, ``px``, ``qty``
(no Python object per event). A row becomes one or more events, in its arrival order:

* trades: one K_TRADE_BUY / K_TRADE_SELL / K_TRADE_UNKNOWN (aggressor side) event.
* incremental_book_L2: one K_BID / K_ASK event, ``qty`` the level's new absolute size (0 removes
  it). The tardis rules of `lib/market/tardis/book.py` apply: rows before the first snapshot are
  skipped (no base book), and a snapshot row after a non-snapshot row starts a new book, framed
  as K_SNAP_BEGIN ... levels ... K_SNAP_END (emitted before the next non-snapshot row).
* book_snapshot_25 / _5: K_SNAP_BEGIN, one level event per non-empty level, K_SNAP_END.
* quotes: K_TOP_BID and K_TOP_ASK (NaN price: that side is empty).

A snapshot is applied as a replacement, not as "clear then add": levels it re-states keep their
identity, so the queue position of a resting order survives a snapshot that keeps its level.
"""

from __future__ import annotations

import numpy as np
from numba import njit

K_TRADE_BUY = 1
K_TRADE_SELL = 2
K_TRADE_UNKNOWN = 3
K_BID = 4
K_ASK = 5
K_SNAP_BEGIN = 6
K_SNAP_END = 7
K_TOP_BID = 8
K_TOP_ASK = 9

# incremental_book_L2 flattener state carried from one chunk to the next
L2_STARTED = 0
L2_PREV_SNAPSHOT = 1
L2_STATE_SIZE = 2


def empty_events(n: int) -> tuple[np.ndarray, ...]:
    """Uninitialized event columns (ts, lts, kind, px, qty) for ``n`` events."""
    return (
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n, np.int8),
        np.empty(n, np.float64),
        np.empty(n, np.float64),
    )


@njit(cache=True, nogil=True)
def flatten_l2(
    ts, lts, is_snapshot, is_bid, price, amount, state, o_ts, o_lts, o_kind, o_px, o_qty
) -> int:
    """incremental_book_L2 rows -> level events with snapshot framing (needs 2 slots per row)."""
    k = 0
    started = state[L2_STARTED] != 0
    prev = state[L2_PREV_SNAPSHOT] != 0
    for i in range(ts.shape[0]):
        snap = is_snapshot[i]
        if snap and not prev:
            started = True
            o_ts[k] = ts[i]
            o_lts[k] = lts[i]
            o_kind[k] = K_SNAP_BEGIN
            o_px[k] = np.nan
            o_qty[k] = 0.0
            k += 1
        elif prev and not snap:
            o_ts[k] = ts[i]
            o_lts[k] = lts[i]
            o_kind[k] = K_SNAP_END
            o_px[k] = np.nan
            o_qty[k] = 0.0
            k += 1
        prev = snap
        if not started:
            continue
        o_ts[k] = ts[i]
        o_lts[k] = lts[i]
        o_kind[k] = K_BID if is_bid[i] != 0 else K_ASK
        o_px[k] = price[i]
        o_qty[k] = amount[i]
        k += 1
    state[L2_STARTED] = 1 if started else 0
    state[L2_PREV_SNAPSHOT] = 1 if prev else 0
    return k


@njit(cache=True, nogil=True)
def flatten_quotes(
    ts, lts, bid_px, bid_qty, ask_px, ask_qty, o_ts, o_lts, o_kind, o_px, o_qty
) -> int:
    """Quotes -> K_TOP_BID then K_TOP_ASK per row (2 slots per row)."""
    k = 0
    for i in range(ts.shape[0]):
        for side in range(2):
            o_ts[k] = ts[i]
            o_lts[k] = lts[i]
            if side == 0:
                o_kind[k] = K_TOP_BID
                o_px[k] = bid_px[i]
                o_qty[k] = bid_qty[i] if np.isfinite(bid_qty[i]) else 0.0
            else:
                o_kind[k] = K_TOP_ASK
                o_px[k] = ask_px[i]
                o_qty[k] = ask_qty[i] if np.isfinite(ask_qty[i]) else 0.0
            k += 1
    return k


@njit(cache=True, nogil=True)
def flatten_snapshots(
    ts, lts, bids_px, bids_qty, asks_px, asks_qty, o_ts, o_lts, o_kind, o_px, o_qty
) -> int:
    """book_snapshot_N rows -> K_SNAP_BEGIN, non-empty levels, K_SNAP_END (2 + 2N slots a row)."""
    k = 0
    depth = bids_px.shape[1]
    for i in range(ts.shape[0]):
        o_ts[k] = ts[i]
        o_lts[k] = lts[i]
        o_kind[k] = K_SNAP_BEGIN
        o_px[k] = np.nan
        o_qty[k] = 0.0
        k += 1
        for j in range(depth):
            for side in range(2):
                p = bids_px[i, j] if side == 0 else asks_px[i, j]
                q = bids_qty[i, j] if side == 0 else asks_qty[i, j]
                if not (np.isfinite(p) and np.isfinite(q)) or q <= 0.0:
                    continue
                o_ts[k] = ts[i]
                o_lts[k] = lts[i]
                o_kind[k] = K_BID if side == 0 else K_ASK
                o_px[k] = p
                o_qty[k] = q
                k += 1
        o_ts[k] = ts[i]
        o_lts[k] = lts[i]
        o_kind[k] = K_SNAP_END
        o_px[k] = np.nan
        o_qty[k] = 0.0
        k += 1
    return k


def slots_per_row(data_type: str, depth: int = 0) -> int:
    """Upper bound of events one row of ``data_type`` flattens into."""
    if data_type == "trades":
        return 1
    if data_type in ("incremental_book_L2", "quotes"):
        return 2
    return 2 + 2 * depth


def flatten_chunk(
    data_type: str, chunk: dict[str, np.ndarray], l2_state: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Flatten one chunk of ``data_type`` into event columns (ts, lts, kind, px, qty)."""
    n = chunk["timestamp"].shape[0]
    ts, lts = chunk["timestamp"], chunk["local_timestamp"]
    if data_type.startswith("book_snapshot"):
        depth = chunk["bids_price"].shape[1]
        out = empty_events(n * slots_per_row(data_type, depth))
        k = flatten_snapshots(
            ts,
            lts,
            chunk["bids_price"],
            chunk["bids_amount"],
            chunk["asks_price"],
            chunk["asks_amount"],
            *out,
        )
    elif data_type == "trades":
        # one event per row: only the kind is new, the other columns are the chunk's own
        side = chunk["side"]
        kind = np.where(side > 0, K_TRADE_BUY, np.where(side < 0, K_TRADE_SELL, K_TRADE_UNKNOWN))
        return ts, lts, kind.astype(np.int8), chunk["price"], chunk["amount"]
    elif data_type == "incremental_book_L2":
        snap = chunk["is_snapshot"]
        if l2_state[L2_STARTED] and not l2_state[L2_PREV_SNAPSHOT] and not snap.any():
            # the common chunk: a started book and no snapshot in it, one event per row
            kind = np.where(chunk["is_bid"] != 0, K_BID, K_ASK).astype(np.int8)
            return ts, lts, kind, chunk["price"], chunk["amount"]
        out = empty_events(2 * n)
        k = flatten_l2(
            ts,
            lts,
            chunk["is_snapshot"],
            chunk["is_bid"],
            chunk["price"],
            chunk["amount"],
            l2_state,
            *out,
        )
    elif data_type == "quotes":
        out = empty_events(2 * n)
        k = flatten_quotes(
            ts,
            lts,
            chunk["bid_price"],
            chunk["bid_amount"],
            chunk["ask_price"],
            chunk["ask_amount"],
            *out,
        )
    else:
        raise ValueError(f"no event layout for data type {data_type!r}")
    return tuple(col[:k] for col in out)
