"""Group commit for the response cache: durable before a job counts as done, off the loop.

Each answer is committed before its request is reported done (so whatever a run acknowledged
survives a kill -9), but commits run in one writer thread on their own SQLite connection:
while one transaction is being written, newly arrived answers queue and go into the next one.
Under load that turns hundreds of tiny commits per second into a few larger ones, and the
event loop never blocks on disk (a WAL checkpoint can stall for milliseconds).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from datetime import date
from pathlib import Path
from typing import Any

from tardis_assets.lib.llm.cache import ResponseCache

_Item = tuple[list[tuple[str, dict[str, Any]]], tuple[date, float] | None]


class GroupWriter:
    """Use inside one event loop; `await write(...)` returns once the data is committed."""

    def __init__(self, path: Path) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="llm-cache")
        self._cache: ResponseCache = self._executor.submit(ResponseCache, path).result()
        self._pending: list[tuple[_Item, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.commits = 0

    async def write(
        self, items: list[tuple[str, dict[str, Any]]], spend: tuple[date, float] | None
    ) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._pending.append(((items, spend), fut))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        # Not shielded: a cancelled waiter leaves the commit running (the flusher owns it).
        await fut

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await loop.run_in_executor(self._executor, self._commit, [b for b, _ in batch])
            except Exception as exc:  # the caller sees the real error
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            self.commits += 1
            for _, fut in batch:
                if not fut.done():
                    fut.set_result(None)

    def _commit(self, batch: list[_Item]) -> None:
        items = [kv for its, _ in batch for kv in its]
        by_day: dict[date, float] = {}
        for _, spend in batch:
            if spend is not None and spend[1] > 0:
                by_day[spend[0]] = by_day.get(spend[0], 0.0) + spend[1]
        self._cache.put_many(items, spends=list(by_day.items()))

    async def aclose(self) -> None:
        if self._flusher is not None:
            await self._flusher
        self._executor.submit(self._cache.close).result()
        self._executor.shutdown(wait=True)
