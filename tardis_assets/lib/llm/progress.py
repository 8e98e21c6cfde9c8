"""Progress of a run, for logs: done/total, rate, cost, cache hits, failures, every few seconds.

A callback that raises must not kill the run: its errors are logged and the run goes on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from tardis_assets.lib.llm import contracts as c
from tardis_assets.lib.llm.planning import Unit

log = logging.getLogger(__name__)

ProgressCallback = Callable[[c.Progress], None]


class ProgressReporter:
    def __init__(
        self,
        callback: ProgressCallback,
        total: int,
        interval_s: float,
        done: Callable[[], int],
        units: Callable[[], list[Unit]],
        spend: Callable[[], tuple[float, int]],
    ) -> None:
        self.callback = callback
        self.total = total
        self.interval_s = interval_s
        self._done = done
        self._units = units
        self._spend = spend
        self.t_start = time.monotonic()

    def snapshot(self, done: int) -> c.Progress:
        elapsed = time.monotonic() - self.t_start
        finished = [u.outcome for u in self._units() if u.outcome is not None]
        cost, http = self._spend()
        return c.Progress(
            done=done,
            total=self.total,
            elapsed_s=round(elapsed, 3),
            rate_per_s=done / elapsed if elapsed > 0 else 0.0,
            cost_usd=cost,
            cache_hits=sum(1 for o in finished if o.cache_hit),
            http_requests=http,
            failed=sum(1 for o in finished if o.status != c.STATUS_OK),
        )

    async def loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                self.callback(self.snapshot(self._done()))
            except Exception:  # a broken callback must not kill the run
                log.exception("LLM progress callback failed")

    def final(self) -> None:
        self.callback(self.snapshot(self.total))
