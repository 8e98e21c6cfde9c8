"""Chunked generation: run the kernel buffer by buffer and hand out tardis frames per type.

One kernel run serves every requested type at once (they share the book), and each call fills
at most ``max_rows`` rows of any type before returning, so memory stays bounded whatever the day's
size. Chunks cover consecutive spans of the day (message by message); their concatenation per
type is the same for any ``max_rows`` because the kernel carries its state across calls and draws
by message index.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Collection, Iterator
from typing import TypeVar

import numpy as np
import polars as pl

from tardis_assets.lib.market.synthetic.frames import OUTPUT_TYPES, Buffers
from tardis_assets.lib.market.synthetic.plan import DayPlan
from tardis_assets.lib.market.synthetic.simulate import (
    N_OUTPUTS,
    OUT_L2,
    OUT_SNAPSHOTS,
    simulate,
)

DEFAULT_MAX_ROWS = 200_000
T = TypeVar("T")
SNAPSHOT_ROW_WEIGHT = 25  # a 25-level snapshot row holds ~25x the numbers of an L2 row


def stream_buffers(
    plan: DayPlan, data_types: Collection[str], max_rows: int = DEFAULT_MAX_ROWS
) -> Iterator[tuple[Buffers, dict[str, int]]]:
    """The kernel's raw output, call by call: (buffers, rows per requested type).

    Each call fills at most ``max_rows`` rows of any type (snapshots: ``max_rows / 25``, as a
    25-level row holds that many numbers) over the next span of the day; the last call ends the
    day. Buffers are fresh per call.
    """
    unknown = sorted(set(data_types) - set(OUTPUT_TYPES))
    if unknown:
        raise ValueError(f"the synthetic market does not make {unknown}; it makes {OUTPUT_TYPES}")
    if max_rows < 1:
        raise ValueError(f"max_rows must be positive, got {max_rows}")
    want = np.array([t in data_types for t in OUTPUT_TYPES], dtype=np.bool_)
    per_message = int(plan.params[0]["l2_rows_per_message"])
    caps = np.full(N_OUTPUTS, max_rows, dtype=np.int64)
    caps[OUT_L2] = max(max_rows, 2 * per_message)
    caps[OUT_SNAPSHOTS] = max(max_rows // SNAPSHOT_ROW_WEIGHT, 1)
    caps = np.where(want, caps, 0)
    ks = plan.new_state()
    filled = np.zeros(N_OUTPUTS, dtype=np.int64)
    done = False
    while not done:
        out = Buffers.allocate(caps)
        done = simulate(
            plan.params,
            ks.state,
            plan.minute_i,
            plan.minute_f,
            plan.fair,
            ks.scratch_t,
            ks.scratch_trade,
            want,
            caps,
            filled,
            out.l2,
            out.quotes,
            out.trades,
            out.snapshots,
            out.ticker,
        )
        yield out, {t: int(filled[i]) for i, t in enumerate(OUTPUT_TYPES) if want[i]}


def stream_plan(
    plan: DayPlan, data_types: Collection[str], max_rows: int = DEFAULT_MAX_ROWS
) -> Iterator[dict[str, pl.DataFrame]]:
    """Chunks of one instrument-day: each a dict {data_type: frame} over the same span.

    Every requested type is in every chunk (possibly with 0 rows); types are those of
    ``OUTPUT_TYPES``.
    """
    for out, rows in stream_buffers(plan, data_types, max_rows):
        yield {t: out.frame(t, n, plan.exchange, plan.symbol, plan.units) for t, n in rows.items()}


def read_ahead(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """``items`` produced in a worker thread, at most ``depth`` ahead of the consumer.

    The kernel releases the GIL (numba ``nogil``) and so does polars' CSV writer, so a writer
    that consumes chunks through this overlaps generating the next chunk with writing this one.
    An exception in the producer is raised in the consumer; a consumer that stops early stops
    the producer.
    """
    done = object()
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        slots.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as exc:  # handed to the consumer below
            failure.append(exc)
        while not stop.is_set():
            try:
                slots.put(done, timeout=0.1)
                return
            except queue.Full:
                continue

    worker = threading.Thread(target=produce, name="synthetic-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                break
            yield item
        if failure:
            raise failure[0]
    finally:
        stop.set()
        worker.join()
