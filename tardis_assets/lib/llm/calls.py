"""Answering one call: claim its questions, walk the fallback chain, commit what was bought.

One payer per request: a call's questions are claimed in the shared cache before anything is
sent. A question another live process holds is waited for (its answer arrives in the cache) or
taken over once that holder's lease has expired; a question answered meanwhile is a cache hit.
Write-ahead spend: the answers and the journal row of the call that bought them commit in one
transaction, before the questions count as done. Packed calls: items that fail alone are asked
again alone, each in a call (and a journal row) of its own.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from tardis_assets.lib.llm import contracts as c
from tardis_assets.lib.llm.attempts import Sender, record_of
from tardis_assets.lib.llm.cache import ANSWERED, HELD, Commit, ResponseCache, now_us
from tardis_assets.lib.llm.cache_writer import GroupWriter
from tardis_assets.lib.llm.guard import bar_date
from tardis_assets.lib.llm.journal import STATUS_PARTIAL, JournalRow
from tardis_assets.lib.llm.planning import Call, Outcome, Planner, Unit
from tardis_assets.lib.llm.retry import redact
from tardis_assets.lib.llm.routing import ModelInfo
from tardis_assets.lib.llm.schemas import Parsed
from tardis_assets.lib.llm.usage import Spend

Settle = Callable[[Unit, Outcome], None]


def _today() -> date:
    return datetime.now(UTC).date()


class CallRunner:
    """Sends calls for one run; `settle(unit, outcome)` is told how each unit ended."""

    def __init__(
        self,
        config: c.GatewayConfig,
        planner: Planner,
        sender: Sender,
        writer: GroupWriter,
        reader: ResponseCache,
        settle: Settle,
        run_id: str,
        transport: str = "online",
    ) -> None:
        self.config = config
        self.planner = planner
        self.sender = sender
        self.writer = writer
        self.reader = reader
        self.settle = settle
        self.run_id = run_id
        self.transport = transport
        self.journaled: list[JournalRow] = []
        self.by_model: dict[str, c.ModelTotals] = {}
        self.waited = 0
        self._pending: set[asyncio.Task[None]] = set()
        self._held: list[Call] = []

    def screen(self, units: Sequence[Unit]) -> list[Unit]:
        """Guard, cache lookup and replay-only for new units; settles those, returns the rest."""
        hits = self.reader.get_many(k for u in units for k in u.keys.values())
        todo: list[Unit] = []
        for unit in units:
            record = next(
                (hits[unit.keys[m.id]] for m in unit.eligible if unit.keys[m.id] in hits), None
            )
            if not unit.eligible:
                names = ", ".join(m.id for m in unit.chain)
                latest = max(m.cutoff for m in unit.chain)
                self.settle(
                    unit,
                    Outcome(
                        c.STATUS_LOOKAHEAD_REFUSED,
                        error=f"bar {bar_date(unit.bar_start_us)} is before the knowledge cutoff "
                        f"of every model in the chain ({names}; latest {latest})",
                        requested_at_us=time.time_ns() // 1000,
                    ),
                )
            elif record is not None:
                model = self.planner.routing.models.get(record["model_id"])
                self.settle(
                    unit,
                    Outcome(c.STATUS_OK, record=record, cache_hit=True, answered_by=model,
                            requested_at_us=time.time_ns() // 1000),
                )  # fmt: skip
            elif self.config.replay_only:
                self.settle(
                    unit,
                    Outcome(c.STATUS_REPLAY_MISS, error="replay_only: no cached answer",
                            requested_at_us=time.time_ns() // 1000),
                )  # fmt: skip
            else:
                todo.append(unit)
        return todo

    # ------------------------------------------------------------------ claims
    async def claim(self, units: list[Unit]) -> tuple[list[Unit], list[Unit]]:
        """Claim units in one transaction: (granted, held by another live process); units
        answered meanwhile are settled as cache hits."""
        verdicts = await self.writer.claim(
            [(u.key, tuple(u.keys[m.id] for m in u.eligible)) for u in units]
        )
        granted, held = [], []
        for unit in units:
            verdict, detail = verdicts[unit.key]
            if verdict == ANSWERED:
                self._hit(unit, detail, waited=False)
            elif verdict == HELD:
                held.append(unit)
            else:
                granted.append(unit)
        return granted, held

    def hold(self, call: Call) -> None:
        """Units of `call` are held by another live process: wait for them (see wait_held)."""
        self._held.append(call)

    async def wait_held(self, send: Callable[[Call], None]) -> None:
        """Poll the cache until every held unit is answered (a hit) or its claim has ended
        unanswered; those are claimed again and handed to `send` (workers stay free to send
        this run's own calls meanwhile, so two processes never wait on each other's queues)."""
        while self._held:
            await asyncio.sleep(self.config.claim_poll_s)
            units = [u for call in self._held for u in call.units if u.outcome is None]
            found = self.reader.get_many(
                k for u in units for k in (u.keys[m.id] for m in u.eligible)
            )
            for unit in units:
                record = next(
                    (found[unit.keys[m.id]] for m in unit.eligible if unit.keys[m.id] in found),
                    None,
                )
                if record is not None:
                    self._hit(unit, record, waited=True)
            open_units = [u for u in units if u.outcome is None]
            leases = self.reader.claim_leases([u.key for u in open_units])
            now = now_us()
            free = {u.key for u in open_units if u.key not in leases or leases[u.key][1] <= now}
            granted: set[str] = set()
            if free:
                mine, _ = await self.claim([u for u in open_units if u.key in free])
                granted = {u.key for u in mine}
            still = []
            for call in self._held:
                left = [u for u in call.units if u.outcome is None]
                take = [u for u in left if u.key in granted]
                if take:
                    send(self._regroup(call, take))
                rest = [u for u in left if u.key not in granted]
                if rest:
                    still.append(self._regroup(call, rest))
            self._held = still

    def _regroup(self, call: Call, units: list[Unit]) -> Call:
        if call.legacy or len(units) == len(call.units):
            return call
        return self.planner.packed_call(units)

    def _hit(self, unit: Unit, record: dict, waited: bool) -> None:
        self.waited += waited
        self.settle(
            unit,
            Outcome(
                c.STATUS_OK,
                record=record,
                cache_hit=True,
                waited=waited,
                answered_by=self.planner.routing.models.get(record["model_id"]),
            ),
        )

    # ------------------------------------------------------------------ sending
    async def answer(self, call: Call, start: int = 0) -> None:
        """Walk the fallback chain (from model `start`) until a model answers the call."""
        await self._room_for_one_more()
        spend = Spend()
        requested_at = now_us()
        t0 = time.monotonic()
        eligible = call.units[0].eligible
        status = c.STATUS_PROVIDER_ERROR
        for index in range(start, len(eligible)):
            model = eligible[index]
            if self.sender.breaker(model).is_open():
                spend.errors.append(f"circuit open for {model.id}")
                status = c.STATUS_BREAKER_OPEN
                continue
            status, parsed, resp, latency_us = await self.sender.ask(call, model, spend)
            if parsed is not None and resp is not None:
                await self._bought(
                    call, index, model, parsed, resp, latency_us, spend, t0, requested_at
                )
                return
            if status == c.STATUS_BUDGET_EXHAUSTED:
                break
        error = redact(spend.error_text() or status, self.sender.secrets)
        rows = [self._row(call, status, spend, None, t0, requested_at)] if spend.attempts else []
        commit = Commit(
            journal=rows, spend=(_today(), spend.cost_usd), release=[u.key for u in call.units]
        )
        latency_ms = (time.monotonic() - t0) * 1000
        outcome = Outcome(
            status, error=error, spend=spend, latency_ms=latency_ms, requested_at_us=requested_at
        )
        self._commit_then_settle(commit, spend.cost_usd, [(u, outcome) for u in call.units])

    async def _bought(
        self,
        call: Call,
        index: int,
        model: ModelInfo,
        parsed: list,
        resp,
        latency_us: int,
        spend: Spend,
        t0: float,
        requested_at: int,
    ) -> None:
        good = [(u, p) for u, p in zip(call.units, parsed, strict=True) if isinstance(p, Parsed)]
        bad = [u for u, p in zip(call.units, parsed, strict=True) if not isinstance(p, Parsed)]
        share = spend.cost_usd / len(call.units)
        records = [(u, record_of(call, p, model, resp, latency_us, share)) for u, p in good]
        status = c.STATUS_OK if not bad else STATUS_PARTIAL
        row = self._row(call, status, spend, resp.model, t0, requested_at, model)
        commit = Commit(
            answers=[(u.keys[model.id], rec) for u, rec in records],
            journal=[row],
            spend=(_today(), spend.cost_usd),
            # Claims of answered units need no release: everyone looks for an answer before a
            # claim, and the run drops its claims when it ends.
        )
        outcomes = [
            (
                unit,
                Outcome(
                    c.STATUS_OK,
                    record=rec,
                    spend=spend,
                    latency_ms=latency_us / 1000,
                    requested_at_us=requested_at,
                    answered_by=model,
                    available_at_us=call.asked_at_us + latency_us,
                ),
            )
            for unit, rec in records
        ]
        self._commit_then_settle(commit, spend.cost_usd, outcomes)
        for unit in bad:  # a bad item fails alone and is asked again alone
            await self.answer(self.planner.packed_call([unit]), start=index)

    def _commit_then_settle(
        self, commit: Commit, usd: float, outcomes: list[tuple[Unit, Outcome]]
    ) -> None:
        """Commit in the background; the units count as done only once it is durable.

        The worker is free to send its next call meanwhile: the writer groups the commits of
        many calls into one transaction, so waiting for it would idle the connection pool.
        """

        async def _go() -> None:
            await self.writer.write(commit)
            self.sender.budget.persisted(usd)
            for unit, outcome in outcomes:
                self.settle(unit, outcome)

        task = asyncio.create_task(_go())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _room_for_one_more(self) -> None:
        """Wait while ``max_concurrency`` bought answers are not yet durable.

        Commits run behind the calls (``_commit_then_settle``), so without a bound a slow disk
        would let answers pile up that a kill -9 loses and a restart pays again. With it, what a
        kill can cost is at most the calls in flight plus this many, however slow the disk.
        """
        limit = max(1, self.config.max_concurrency)
        while len(self._pending) >= limit:
            await asyncio.wait(list(self._pending), return_when=asyncio.FIRST_COMPLETED)

    async def drain(self) -> None:
        """Wait until every commit of the run is durable (errors surface here)."""
        while self._pending:
            await asyncio.gather(*list(self._pending))

    def _row(
        self,
        call: Call,
        status: str,
        spend: Spend,
        model_returned: str | None,
        t0: float,
        requested_at: int,
        answered_by: ModelInfo | None = None,
    ) -> JournalRow:
        primary = call.units[0].chain[0]
        row = JournalRow(
            # Unique across partitions and attempts: one run may compute many (day, kind)
            # partitions (single-run backfills) and a step may be retried or redelivered within
            # the same run; a repeated id would be dropped by the journal (INSERT OR IGNORE).
            call_id=f"{self.run_id}-{uuid.uuid4().hex}",
            day=call.day,
            kind=call.kind,
            run_id=self.run_id,
            status=status,
            provider=self.planner.provider_of(answered_by or primary),
            model_requested=primary.id,
            model_returned=model_returned,
            items=len(call.units),
            unit_keys=tuple(u.key for u in call.units),
            tokens_in=spend.tokens_in,
            tokens_cached=spend.tokens_cached,
            tokens_out=spend.tokens_out,
            tokens_reasoning=spend.tokens_reasoning,
            cost_usd=round(spend.cost_usd, 12),
            estimated=spend.estimated,
            replayed=spend.replayed,
            latency_ms=round((time.monotonic() - t0) * 1000, 3),
            attempts=spend.attempts,
            transport=self.transport,
            batch_id=None,
            error=redact(spend.error_text() or "", self.sender.secrets) or None,
            usage_json="[" + ",".join(spend.usages) + "]" if spend.usages else None,
            requested_at_us=requested_at,
        )
        self.journaled.append(row)
        totals = self.by_model.setdefault((answered_by or primary).id, c.ModelTotals())
        totals.calls += 1
        totals.attempts += spend.attempts
        totals.tokens_in += spend.tokens_in
        totals.tokens_cached += spend.tokens_cached
        totals.tokens_out += spend.tokens_out
        totals.latencies_ms.append(row.latency_ms)
        for model_id, usd in spend.by_model.items():
            self.by_model.setdefault(model_id, c.ModelTotals()).cost_usd += usd
        return row
