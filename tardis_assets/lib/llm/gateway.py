"""The gateway: turns requests and questions into validated answers at the lowest safe cost.

Per question: look-ahead guard -> cache (any model of the chain already answered?) -> claim in
the shared cache -> for each eligible model of the fallback chain: breaker -> budget -> rate
limiter -> HTTP attempt (one retry layer) -> validation (one repair) -> one commit of the
answers with the journal row that paid for them. Identical questions in one run are asked once.
`generate` serves `SignalRequest`s (one window per call, the original prompts and keys); `ask`
serves `Question`s, packed into calls by their pack label.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import httpx

from tardis_assets.lib.llm import contracts as c
from tardis_assets.lib.llm import results
from tardis_assets.lib.llm.attempts import Sender, breaker_states
from tardis_assets.lib.llm.budget import Budget
from tardis_assets.lib.llm.cache import ResponseCache
from tardis_assets.lib.llm.cache_writer import GroupWriter
from tardis_assets.lib.llm.calls import CallRunner
from tardis_assets.lib.llm.client import ChatClient
from tardis_assets.lib.llm.planning import Call, Outcome, Planner, Unit
from tardis_assets.lib.llm.progress import ProgressCallback, ProgressReporter
from tardis_assets.lib.llm.providers import (
    ROUTING,
    Endpoint,
    ProviderConfigError,
    api_key_for,
    resolve,
    secrets,
)
from tardis_assets.lib.llm.routing import RoutingTable, load_routing
from tardis_assets.lib.llm.runtime import run_in_loop

# Requests planned per step of generate(); small enough that sending starts at once.
_PLAN_CHUNK = 256


def _today():
    return datetime.now(UTC).date()


class Gateway:
    """Async gateway; one instance = one pooled client set, cache connection and breaker set."""

    def __init__(self, config: c.GatewayConfig, run_id: str | None = None) -> None:
        self.config = config
        self.routing: RoutingTable = load_routing(config.routing_path)
        names = (
            sorted({m.provider for m in self.routing.models.values()})
            if config.provider == ROUTING
            else [config.provider]
        )
        self.endpoints: dict[str, Endpoint] = {
            n: resolve(config, n, require_url=not config.replay_only) for n in names
        }
        self.secrets = secrets(config)
        self.planner = Planner(config, self.routing, self.endpoints)
        self.run_id = run_id or uuid.uuid4().hex[:16]
        # Whoever holds a claim: host, process and this gateway (two gateways of one process
        # never wait for each other's leases).
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._cache: ResponseCache | None = None
        self._writer: GroupWriter | None = None
        self._clients: dict[str, ChatClient] = {}
        self.budget: Budget | None = None
        self.sender: Sender | None = None
        self.runner: CallRunner | None = None
        self._settled: dict[str, int] = {}
        self._done = 0

    async def __aenter__(self) -> Gateway:
        self._cache = ResponseCache(self.config.cache_path)
        self._writer = GroupWriter(self.config.cache_path, self.owner, self.config.claim_lease_s)
        self.budget = Budget(
            self.config.budget_run_usd, self.config.budget_day_usd, self._cache.day_spent, _today
        )
        if not self.config.replay_only:
            # One pooled client per provider, for the whole run.
            for name, endpoint in self.endpoints.items():
                self._clients[name] = ChatClient(
                    endpoint.base_url,
                    api_key_for(self.config, name),
                    self.config.request_timeout_s,
                    self.config.max_concurrency,
                    self.config.transport,
                )
        self.sender = Sender(self.config, self.planner, self._clients, self.budget, self.secrets)
        self.runner = CallRunner(
            self.config, self.planner, self.sender, self._writer, self._cache, self._settle,
            self.run_id,
        )  # fmt: skip
        return self

    async def __aexit__(self, *exc: object) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients = {}
        if self._writer is not None:
            await self._writer.aclose()
            self._writer = None
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    @property
    def cache(self) -> ResponseCache:
        if self._cache is None:
            raise RuntimeError("use `async with Gateway(config) as gw:` first")
        return self._cache

    @property
    def writer(self) -> GroupWriter:
        if self._writer is None:
            raise RuntimeError("use `async with Gateway(config) as gw:` first")
        return self._writer

    @property
    def endpoint(self) -> Endpoint:
        """The single provider of this run (not defined in "routing" mode)."""
        if self.config.provider == ROUTING:
            raise ProviderConfigError("this needs a single provider, not provider='routing'")
        return self.endpoints[self.config.provider]

    @property
    def http(self) -> httpx.AsyncClient:
        """The single provider's pooled client, for slow-path calls (batch files)."""
        client = self._clients.get(self.endpoint.provider.name)
        if client is None:
            raise RuntimeError("no HTTP client (replay_only, or outside `async with`)")
        return client.http

    @property
    def http_requests(self) -> int:
        return self.sender.http_requests if self.sender else 0

    # ------------------------------------------------------------------ settling
    def _settle(self, unit: Unit, outcome: Outcome) -> None:
        if unit.outcome is None:
            unit.outcome = outcome
            self._done += self._settled.pop(unit.key, 0)

    def screen(self, units: Sequence[Unit]) -> list[Unit]:
        """Guard, cache lookup and replay-only for new units; returns the ones to send."""
        assert self.runner is not None
        return self.runner.screen(units)

    # ------------------------------------------------------------------ the run
    async def _drive(
        self,
        produce: Callable[[asyncio.Queue[Call | None]], object],
        total: int,
        on_progress: ProgressCallback | None,
        units: Callable[[], list[Unit]],
    ) -> None:
        """Workers send queued calls while `produce` plans; the lease is renewed meanwhile."""
        n_workers = max(1, self.config.max_concurrency)
        queue: asyncio.Queue[Call | None] = asyncio.Queue()
        assert self.runner is not None

        async def producer() -> None:
            assert self.runner is not None
            try:
                await produce(queue)  # type: ignore[misc]
                await self.runner.wait_held(lambda call: queue.put_nowait(call))
            finally:
                for _ in range(n_workers):
                    queue.put_nowait(None)

        async def worker() -> None:
            assert self.runner is not None
            while (item := await queue.get()) is not None:
                await self.runner.answer(item)

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.config.claim_lease_s / 3)
                await self.writer.renew()

        background = [asyncio.create_task(renew())]
        reporter = None
        if on_progress is not None:
            reporter = ProgressReporter(
                on_progress, total, self.config.progress_interval_s, lambda: self._done, units,
                lambda: (self.budget.spent if self.budget else 0.0, self.http_requests),
            )  # fmt: skip
            background.append(asyncio.create_task(reporter.loop()))
        try:
            await asyncio.gather(producer(), *(worker() for _ in range(n_workers)))
            await self.runner.drain()
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if reporter is not None:
            reporter.final()

    async def _queue(
        self,
        units: list[Unit],
        make_calls: Callable[[list[Unit]], list[Call]],
        queue: asyncio.Queue[Call | None],
    ) -> None:
        """Claim a planned chunk in one transaction, then queue its calls: granted ones to be
        sent, held ones to be waited for (their holder's answer, or its lease's end)."""
        if not units:
            return
        assert self.runner is not None
        granted, held = await self.runner.claim(units)
        for call in make_calls(granted):
            queue.put_nowait(call)
        for call in make_calls(held):
            self.runner.hold(call)

    async def generate(
        self,
        requests: Sequence[c.SignalRequest],
        on_progress: ProgressCallback | None = None,
    ) -> c.GatewayReport:
        """Answer every request (one window per call); results come back in request order.

        Requests are planned in chunks while the first ones are already in flight, so planning
        (prompt building, hashing, cache lookups) overlaps network waits.
        """
        http_before = self.http_requests
        self._done = 0
        order: list[str] = []
        units: dict[str, Unit] = {}
        calls: dict[str, Call] = {}

        async def produce(queue: asyncio.Queue[Call | None]) -> None:
            for i in range(0, len(requests), _PLAN_CHUNK):
                new: list[Unit] = []
                for req in requests[i : i + _PLAN_CHUNK]:
                    unit, call = self.planner.legacy_unit(req)
                    order.append(unit.key)
                    known = units.get(unit.key)
                    if known is None:
                        units[unit.key] = unit
                        calls[unit.key] = call
                        self._settled[unit.key] = 1
                        new.append(unit)
                    elif known.outcome is not None:
                        self._done += 1
                    else:
                        self._settled[unit.key] += 1
                await self._queue(self.screen(new), lambda us: [calls[u.key] for u in us], queue)
                await asyncio.sleep(0)  # let workers send what is planned

        await self._drive(produce, len(requests), on_progress, lambda: list(units.values()))
        return self.legacy_report(order, units, http_before)

    async def ask(
        self,
        questions: Sequence[c.Question],
        pack_size: int = 1,
        on_progress: ProgressCallback | None = None,
    ) -> c.AskReport:
        """Answer every question; questions sharing a pack label go up to pack_size per call."""
        http_before = self.http_requests
        self._done = 0
        planned, units = self.plan_questions(questions)
        for unit in planned:
            self._settled[unit.key] = self._settled.get(unit.key, 0) + 1

        async def produce(queue: asyncio.Queue[Call | None]) -> None:
            todo = self.screen(list(units.values()))
            for i in range(0, len(todo), _PLAN_CHUNK):
                chunk = todo[i : i + _PLAN_CHUNK]
                await self._queue(chunk, lambda us: self.planner.group(us, pack_size), queue)

        await self._drive(produce, len(questions), on_progress, lambda: list(units.values()))
        return self.ask_report(questions, planned, units, http_before)

    # ------------------------------------------------------------------ plans and reports
    def plan_requests(
        self, requests: Sequence[c.SignalRequest]
    ) -> tuple[list[str], dict[str, Unit], dict[str, Call]]:
        return self.planner.plan_requests(requests)

    def plan_questions(self, questions: Sequence[c.Question]) -> tuple[list[Unit], dict[str, Unit]]:
        return self.planner.plan_questions(questions)

    def legacy_report(
        self, order: list[str], units: dict[str, Unit], http_before: int
    ) -> c.GatewayReport:
        return results.legacy_report(
            self.planner, order, units, self.secrets, self.http_requests - http_before
        )

    def ask_report(
        self,
        questions: Sequence[c.Question],
        planned: list[Unit],
        units: dict[str, Unit],
        http_before: int,
    ) -> c.AskReport:
        assert self.runner is not None and self.sender is not None
        states, opened = breaker_states(self.sender)
        return results.ask_report(
            self.planner, questions, planned, units, self.runner, states, opened,
            self.sender.last_error, self.http_requests - http_before, self.run_id,
        )  # fmt: skip


def run_signals(
    config: c.GatewayConfig,
    requests: Sequence[c.SignalRequest],
    on_progress: ProgressCallback | None = None,
) -> c.GatewayReport:
    """Synchronous entry point: runs the gateway in its own event loop (safe from a Dagster op)."""

    async def _go() -> c.GatewayReport:
        async with Gateway(config) as gw:
            return await gw.generate(requests, on_progress)

    return run_in_loop(_go)


def ask_questions(
    config: c.GatewayConfig,
    questions: Sequence[c.Question],
    pack_size: int = 1,
    run_id: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> c.AskReport:
    """Synchronous entry point for Questions (packed calls, journaled spend)."""

    async def _go() -> c.AskReport:
        async with Gateway(config, run_id=run_id) as gw:
            return await gw.ask(questions, pack_size, on_progress)

    return run_in_loop(_go)
