"""Exchange-time and arrival-time order of a day's events, built chunk by chunk in bounded memory.

Two orders matter. The matching engine sees events in **exchange-time order** (``timestamp``),
ties broken by stream rank (trades, then depth, then quotes: a trade is applied before the depth
update it caused, so a queue position is not advanced twice) and then by arrival order. The
strategy sees events in **arrival order** (``local_timestamp``), which is the order of the rows
(or of ``seq`` when the lake has that column).

Files are sorted by arrival, so exchange timestamps are only nearly sorted. Each stream keeps a
small sorted buffer; an event may leave it once no later chunk can hold an earlier event: the
*watermark* is the minimum ``timestamp`` over the chunks not read yet (known from the Parquet
statistics before reading them). Merging the streams up to the smallest watermark gives the exact
global order while holding only about one chunk per stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future

import numpy as np
from numba import njit

from tardis_assets.lib.execution.events import L2_STATE_SIZE, flatten_chunk
from tardis_assets.lib.execution.sources import SEQ, ChunkBounds

INF = np.iinfo(np.int64).max


@njit(cache=True, nogil=True)
def is_nondecreasing(a: np.ndarray) -> bool:
    for i in range(1, a.shape[0]):  # noqa: SIM110 - numba compiles loops, not generators
        if a[i] < a[i - 1]:
            return False
    return True


@njit(cache=True, nogil=True)
def merge3(
    a_ts,
    a_kind,
    a_px,
    a_qty,
    b_ts,
    b_kind,
    b_px,
    b_qty,
    c_ts,
    c_kind,
    c_px,
    c_qty,
    o_ts,
    o_kind,
    o_px,
    o_qty,
) -> None:
    """Stable 3-way merge by ts; on equal ts stream a comes before b before c."""
    i = 0
    j = 0
    k = 0
    na = a_ts.shape[0]
    nb = b_ts.shape[0]
    nc = c_ts.shape[0]
    big = np.iinfo(np.int64).max
    for m in range(na + nb + nc):
        ta = a_ts[i] if i < na else big
        tb = b_ts[j] if j < nb else big
        tc = c_ts[k] if k < nc else big
        if i < na and ta <= tb and ta <= tc:
            o_ts[m] = ta
            o_kind[m] = a_kind[i]
            o_px[m] = a_px[i]
            o_qty[m] = a_qty[i]
            i += 1
        elif j < nb and tb <= tc:
            o_ts[m] = tb
            o_kind[m] = b_kind[j]
            o_px[m] = b_px[j]
            o_qty[m] = b_qty[j]
            j += 1
        else:
            o_ts[m] = tc
            o_kind[m] = c_kind[k]
            o_px[m] = c_px[k]
            o_qty[m] = c_qty[k]
            k += 1


def _suffix_min(values: np.ndarray) -> np.ndarray:
    """out[g] = min(values[g:]), with out[len] = INF (nothing left)."""
    out = np.full(values.shape[0] + 1, INF, dtype=np.int64)
    if values.size:
        out[:-1] = np.minimum.accumulate(values[::-1])[::-1]
    return out


def _take(cols: dict[str, np.ndarray], idx: np.ndarray | slice) -> dict[str, np.ndarray]:
    return {k: v[idx] for k, v in cols.items()}


def _concat(a: dict[str, np.ndarray] | None, b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    if a is None or a["timestamp"].shape[0] == 0:
        return b
    return {k: np.concatenate([a[k], b[k]]) for k in b}


class StreamQueue:
    """One data type's events on their way to the engine, in both orders.

    ``load`` reads the next chunk (prefetched on ``executor``), restores arrival order when the
    lake carries ``seq``, flattens rows into events and files them into the exchange-ordered
    buffer (and the arrival-ordered buffer when this stream feeds the strategy's local view).
    """

    def __init__(
        self,
        data_type: str,
        bounds: ChunkBounds,
        chunks: Callable[[], Iterator[dict[str, np.ndarray]]],
        executor: Executor,
        *,
        local: bool,
        exchange: bool,
    ) -> None:
        self.data_type = data_type
        self.local = local
        self.exchange = exchange
        self.rows = 0
        self._bounds = bounds
        self._min_ts = _suffix_min(bounds.min_ts)
        self._min_lts = _suffix_min(bounds.min_lts)
        self._min_seq = _suffix_min(bounds.min_seq)
        self._n_chunks = int(bounds.rows.shape[0])
        self._next = 0
        self._executor = executor
        self._iter = chunks()
        self._future: Future | None = None
        self._read_index = 0  # reader thread only
        self._read_max_seq = -1  # reader thread only
        self._raw = False  # reader thread only: hand chunks over unflattened from now on
        self._l2_state = np.zeros(L2_STATE_SIZE, dtype=np.int64)
        self._held: dict[str, np.ndarray] | None = None  # rows waiting for their seq turn
        self._held_min_ts = INF
        self._held_min_lts = INF
        self._x: tuple[np.ndarray, ...] = _empty4()
        self._buffers = (EventBuffer(), EventBuffer())
        self._turn = 0
        self._l: tuple[np.ndarray, ...] = _empty5()
        self._prefetch()

    # -- reading -------------------------------------------------------------------------------
    def _prefetch(self) -> None:
        if self._next < self._n_chunks and self._future is None:
            self._future = self._executor.submit(self._read)

    def _read(self) -> tuple[int, dict[str, np.ndarray] | None, tuple | None, bool]:
        """On the reader thread: the next chunk, already flattened when its rows are in arrival
        order (the flattener is numba without the GIL, so it overlaps the replay loop), with
        whether its exchange times are sorted.

        With a ``seq`` column the rows are in arrival order when seq rises within the chunk,
        starts above every seq read before and ends below every seq still to come (the
        Parquet statistics). The first chunk that is not is handed over raw, and every later
        one too: the main thread then restores arrival order. One read per stream is in flight
        at a time, so the reader's state is never shared.
        """
        chunk = next(self._iter)
        g = self._read_index
        self._read_index += 1
        n = int(chunk["timestamp"].shape[0])
        if self._bounds.has_seq:
            if self._raw and n:
                return n, chunk, None, False
            seq = chunk[SEQ]
            if n and not (
                is_nondecreasing(seq)
                and seq[0] > self._read_max_seq
                and seq[-1] < self._min_seq[g + 1]
            ):
                self._raw = True
                return n, chunk, None, False
            if n:
                self._read_max_seq = int(seq[-1])
        events = flatten_chunk(self.data_type, chunk, self._l2_state)
        return n, None, events, bool(is_nondecreasing(events[0]))

    @property
    def exhausted(self) -> bool:
        return self._next >= self._n_chunks

    def exchange_watermark(self) -> int:
        """No event of this stream not yet buffered has a timestamp below this."""
        return min(self._min_ts[self._next], self._held_min_ts)

    def local_watermark(self) -> int:
        """No event of this stream not yet buffered has a local_timestamp below this."""
        return min(self._min_lts[self._next], self._held_min_lts)

    def load(self) -> None:
        """Read one chunk into the buffers."""
        if self.exhausted:
            return
        assert self._future is not None
        n, chunk, events, ts_sorted = self._future.result()
        self._future = None
        self._next += 1
        self.rows += n
        if events is None:
            assert chunk is not None
            rows = self._arrival_ready(chunk)
            self._prefetch()
            if rows is None:
                return
            events = flatten_chunk(self.data_type, rows, self._l2_state)
            ts_sorted = bool(is_nondecreasing(events[0]))
        else:
            self._prefetch()
        ts, lts, kind, px, qty = events
        if self.exchange:
            self._file_exchange(ts, kind, px, qty, ts_sorted)
        if self.local:
            self._l = tuple(
                np.concatenate([old, new])
                for old, new in zip(self._l, (ts, lts, kind, px, qty), strict=True)
            )

    def _arrival_ready(self, chunk: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
        """Rows whose arrival position is final: all of them unless the lake's seq is unsorted."""
        if not self._bounds.has_seq:
            return chunk
        rows = _concat(self._held, chunk)
        seq = rows[SEQ]
        if not is_nondecreasing(seq):
            rows = _take(rows, np.argsort(seq, kind="stable"))
            seq = rows[SEQ]
        cut = int(np.searchsorted(seq, self._min_seq[self._next], side="left"))
        ready, self._held = _take(rows, slice(0, cut)), _take(rows, slice(cut, None))
        held_n = self._held["timestamp"].shape[0]
        self._held_min_ts = int(self._held["timestamp"].min()) if held_n else INF
        self._held_min_lts = int(self._held["local_timestamp"].min()) if held_n else INF
        return ready if cut else None

    def _file_exchange(self, ts, kind, px, qty, ts_sorted: bool) -> None:
        old_ts = self._x[0]
        if old_ts.shape[0] == 0:
            cols = (ts, kind, px, qty)
        else:
            # two buffers in turn: the held events live in one while the next fills the other
            m, n = old_ts.shape[0], ts.shape[0]
            self._turn ^= 1
            cols = self._buffers[self._turn].take(m + n)
            for dst, a, b in zip(cols, self._x, (ts, kind, px, qty), strict=True):
                dst[:m] = a
                dst[m:] = b
        in_order = ts_sorted and (old_ts.shape[0] == 0 or ts.shape[0] == 0 or ts[0] >= old_ts[-1])
        if not in_order:
            order = np.argsort(cols[0], kind="stable")  # pending first: arrival order on ties
            cols = tuple(c[order] for c in cols)
        self._x = cols

    # -- releasing -----------------------------------------------------------------------------
    def release_exchange(self, horizon: int) -> tuple[np.ndarray, ...]:
        """Buffered events with ts < horizon, in exchange order; they leave the buffer."""
        cut = int(np.searchsorted(self._x[0], horizon, side="left"))
        out = tuple(c[:cut] for c in self._x)
        self._x = tuple(c[cut:] for c in self._x)
        return out

    def release_local(self, horizon: int) -> tuple[np.ndarray, ...]:
        """Leading buffered events (arrival order) with lts < horizon; they leave the buffer."""
        late = self._l[1] >= horizon
        cut = int(late.argmax()) if late.any() else int(late.shape[0])
        out = tuple(c[:cut] for c in self._l)
        self._l = tuple(c[cut:] for c in self._l)
        return out

    def buffered(self) -> int:
        return int(self._x[0].shape[0] + self._l[0].shape[0])


def _empty4() -> tuple[np.ndarray, ...]:
    return (np.empty(0, np.int64), np.empty(0, np.int8), np.empty(0), np.empty(0))


def _empty5() -> tuple[np.ndarray, ...]:
    return (
        np.empty(0, np.int64),
        np.empty(0, np.int64),
        np.empty(0, np.int8),
        np.empty(0),
        np.empty(0),
    )


class EventBuffer:
    """Reusable event columns: a block is replayed before the next one is built, so building
    every block into the same memory spares the page faults of fresh arrays (a day's worth of
    them costs as much as the copy itself)."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._cols = _alloc4(capacity)

    def take(self, n: int) -> tuple[np.ndarray, ...]:
        if n > self._cols[0].shape[0]:
            self._cols = _alloc4(max(n, 2 * self._cols[0].shape[0]))
        return tuple(c[:n] for c in self._cols)


def _alloc4(n: int) -> tuple[np.ndarray, ...]:
    return (np.empty(n, np.int64), np.empty(n, np.int8), np.empty(n), np.empty(n))


def merge_streams(
    parts: list[tuple[np.ndarray, ...]], into: EventBuffer | None = None
) -> tuple[np.ndarray, ...]:
    """Exchange-ordered events of up to three streams (in rank order) merged into one block
    (in ``into``'s memory when given: valid until the next merge into it)."""
    if len(parts) > 3:
        raise ValueError(f"at most 3 event streams can be merged, got {len(parts)}")
    while len(parts) < 3:
        parts.append(_empty4())
    busy = [p for p in parts if p[0].shape[0]]
    if len(busy) <= 1:
        return busy[0] if busy else _empty4()  # nothing to interleave: no copy
    n = sum(int(p[0].shape[0]) for p in parts)
    out = into.take(n) if into is not None else _alloc4(n)
    merge3(*parts[0], *parts[1], *parts[2], *out)
    return out
