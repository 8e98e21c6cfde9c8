"""Group commit for the cache: durable before a call counts as done, and off the event loop.

Each answer (with the journal row that paid for it) is committed before its question is
reported done, so whatever a run acknowledged survives a kill -9; claims are committed before
their call is sent. Both run in one writer thread on its own SQLite connection: while one
transaction is being written, newly arrived commits and claims queue and go into the next one.
Under load that turns hundreds of tiny transactions per second into a few larger ones, and the
event loop never blocks on disk (a WAL checkpoint can stall for milliseconds).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tardis_assets.lib.llm.cache import Commit, ResponseCache, Rows


class GroupWriter:
    """Use inside one event loop; every method returns once its data is committed."""

    def __init__(self, path: Path, owner: str, lease_s: float) -> None:
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="llm-cache")
        self._cache: ResponseCache = self._executor.submit(ResponseCache, path).result()
        self.owner = owner
        self.lease_s = lease_s
        self._commits: list[tuple[Rows, asyncio.Future[None]]] = []
        self._claims: list[tuple[Sequence[tuple[str, Sequence[str]]], asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.commits = 0

    def _kick(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())

    async def write(self, commit: Commit) -> None:
        """Commit answers, journal rows, spend and claim releases together."""
        if commit.empty():
            return
        commit.owner = self.owner
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._commits.append((commit.rows(), fut))
        self._kick()
        # Not shielded: a cancelled waiter leaves the commit running (the flusher owns it).
        await fut

    async def claim(
        self, wanted: Sequence[tuple[str, Sequence[str]]]
    ) -> dict[str, tuple[str, Any]]:
        """Claim (key, answering cache keys) pairs; see ResponseCache.claim for the verdicts."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._claims.append((wanted, fut))
        self._kick()
        return await fut

    async def renew(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._cache.renew, self.owner, self.lease_s)

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._commits or self._claims:
            commits, self._commits = self._commits, []
            claims, self._claims = self._claims, []
            if commits:
                merged = Rows()
                for rows, _ in commits:
                    merged.extend(rows)
                try:
                    await loop.run_in_executor(self._executor, self._cache.write_rows, merged)
                    self.commits += 1
                    _resolve(commits, None)
                except Exception as exc:  # the caller sees the real error
                    _fail(commits, exc)
            if claims:
                merged = [pair for wanted, _ in claims for pair in wanted]
                try:
                    verdicts = await loop.run_in_executor(
                        self._executor, self._cache.claim, merged, self.owner, self.lease_s
                    )
                    for wanted, fut in claims:
                        if not fut.done():
                            fut.set_result({name: verdicts[name] for name, _ in wanted})
                except Exception as exc:
                    _fail(claims, exc)

    async def aclose(self) -> None:
        if self._flusher is not None:
            await self._flusher
        self._executor.submit(self._cache.drop_claims, self.owner).result()
        self._executor.submit(self._cache.close).result()
        self._executor.shutdown(wait=True)


def _resolve(items: list[tuple[Any, asyncio.Future[Any]]], value: Any) -> None:
    for _, fut in items:
        if not fut.done():
            fut.set_result(value)


def _fail(items: list[tuple[Any, asyncio.Future[Any]]], exc: Exception) -> None:
    for _, fut in items:
        if not fut.done():
            fut.set_exception(exc)
