"""The gateway: turns SignalRequests into validated SignalResults at the lowest safe cost.

Per request: look-ahead guard -> cache (any model of the chain already answered?) -> for each
eligible model of the fallback chain: breaker -> budget reservation -> rate limiter -> one HTTP
attempt (retried by the single tenacity layer) -> schema validation (one repair retry) -> durable
cache write. Identical prompts inside one run are sent once. Everything paid is in the ledger.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import gc
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx

from tardis_assets.lib.llm import contracts as c
from tardis_assets.lib.llm.breaker import CircuitBreaker
from tardis_assets.lib.llm.budget import Budget
from tardis_assets.lib.llm.cache import ResponseCache, cache_key_from_parts
from tardis_assets.lib.llm.cache_writer import GroupWriter
from tardis_assets.lib.llm.client import ChatClient, ChatResponse
from tardis_assets.lib.llm.guard import allowed, bar_date
from tardis_assets.lib.llm.limiter import ModelLimiter
from tardis_assets.lib.llm.prompts import PROMPT_VERSION, build_messages, repair_messages
from tardis_assets.lib.llm.providers import (
    ROUTING,
    Endpoint,
    ProviderError,
    api_key_for,
    resolve,
    secrets,
)
from tardis_assets.lib.llm.retry import AttemptError, RetryPolicy, redact
from tardis_assets.lib.llm.routing import ModelInfo, RoutingTable, load_routing
from tardis_assets.lib.llm.schemas import SCHEMAS, SchemaError, parse_answer, response_format

log = logging.getLogger(__name__)

ProgressCallback = Callable[[c.Progress], None]

# Requests planned per step of generate(); small enough that sending starts at once.
_PLAN_CHUNK = 256


class BudgetExhausted(Exception):
    """The next attempt's worst-case cost does not fit under a cap."""


class BreakerOpen(Exception):
    """The model's circuit is open: nothing was sent."""


def _now_us() -> int:
    return time.time_ns() // 1000


def _today() -> date:
    return datetime.now(UTC).date()


@dataclass
class _Job:
    """One unique prompt (after dedupe) and its bookkeeping."""

    req: c.SignalRequest
    request_hash: str
    messages: list[dict[str, str]]
    messages_json: str
    chain: list[ModelInfo]
    keys: dict[str, str]
    max_tokens: int
    result: c.SignalResult | None = None
    ledger: c.LedgerRow | None = None


@dataclass
class _Spend:
    """Usage accumulated over every paid attempt of one job."""

    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    estimated: bool = False
    attempts: int = 0
    errors: list[str] = field(default_factory=list)


class Gateway:
    """Async gateway; one instance = one pooled client, cache connection and breaker set."""

    def __init__(self, config: c.GatewayConfig) -> None:
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
        self._secrets = secrets(config)
        self.policy = RetryPolicy(
            max_attempts=config.max_attempts,
            max_elapsed_s=config.max_elapsed_s,
            initial_s=config.backoff_initial_s,
            max_s=config.backoff_max_s,
            retry_after_cap_s=config.retry_after_cap_s,
        )
        self._cache: ResponseCache | None = None
        self._writer: GroupWriter | None = None
        self._clients: dict[str, ChatClient] = {}
        self._params_json: dict[tuple[str, str, int], str] = {}
        self._schema_json = {k: _canon(v) for k, v in SCHEMAS.items()}
        self._limiters: dict[str, ModelLimiter] = {}
        self.breakers: dict[tuple[str, str], CircuitBreaker] = {}
        self.budget: Budget | None = None
        self.http_requests = 0

    async def __aenter__(self) -> Gateway:
        self._cache = ResponseCache(self.config.cache_path)
        self._writer = GroupWriter(self.config.cache_path)
        self.budget = Budget(
            self.config.budget_run_usd,
            self.config.budget_day_usd,
            self._cache.day_spent,
            _today,
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
    def endpoint(self) -> Endpoint:
        """The single provider of this run (not defined in "routing" mode)."""
        if self.config.provider == ROUTING:
            raise ProviderError("this needs a single provider, not provider='routing'")
        return self.endpoints[self.config.provider]

    @property
    def http(self) -> httpx.AsyncClient:
        """The single provider's pooled client, for slow-path calls (batch files)."""
        client = self._clients.get(self.endpoint.provider.name)
        if client is None:
            raise RuntimeError("no HTTP client (replay_only, or outside `async with`)")
        return client.http

    def provider_of(self, model: ModelInfo) -> str:
        """Which provider serves `model` in this run."""
        return model.provider if self.config.provider == ROUTING else self.config.provider

    # ------------------------------------------------------------------ planning
    def _params(self, model: ModelInfo, kind: str, max_tokens: int) -> str:
        """Canonical JSON of every request parameter besides model and messages (memoized)."""
        memo = (model.id, kind, max_tokens)
        text = self._params_json.get(memo)
        if text is None:
            text = _canon(
                {
                    "temperature": self.config.temperature,
                    "max_tokens": max_tokens,
                    "response_format": response_format(kind, model.json_schema),
                }
            )
            self._params_json[memo] = text
        return text

    def _plan(self, req: c.SignalRequest) -> _Job:
        route = self.routing.chain_for(req.kind, dict(self.config.routes or {}))
        messages = build_messages(req)
        messages_json = _canon(messages)
        chain = [self.routing.models[m] for m in route.chain]
        keys = {
            m.id: cache_key_from_parts(
                self.endpoints[self.provider_of(m)].cache_identity,
                m.id,
                messages_json,
                self._params(m, req.kind, route.max_tokens),
                self._schema_json[req.kind],
                PROMPT_VERSION,
            )
            for m in chain
        }
        return _Job(req, keys[chain[0].id], messages, messages_json, chain, keys, route.max_tokens)

    def _body(self, model: ModelInfo, kind: str, max_tokens: int, messages_json: str) -> bytes:
        """The request body, composed from canonical parts (no re-serialization of messages)."""
        params = self._params(model, kind, max_tokens)
        text = (
            '{"messages":' + messages_json + ',"model":' + _canon_str(model.id) + "," + params[1:]
        )
        return text.encode("utf-8")

    def _limiter(self, model: ModelInfo) -> ModelLimiter:
        lim = self._limiters.get(model.id)
        if lim is None:
            lim = ModelLimiter(model.max_concurrency, model.rps, model.tpm)
            self._limiters[model.id] = lim
        return lim

    def breaker(self, model: ModelInfo) -> CircuitBreaker:
        key = (self.provider_of(model), model.id)
        br = self.breakers.get(key)
        if br is None:
            br = CircuitBreaker(
                self.config.breaker_failure_threshold, self.config.breaker_cooldown_s
            )
            self.breakers[key] = br
        return br

    # ------------------------------------------------------------------ results
    def _result(
        self,
        job: _Job,
        status: str,
        *,
        record: dict[str, Any] | None = None,
        cache_hit: bool = False,
        error: str | None = None,
    ) -> c.SignalResult:
        req = job.req
        if record is None:
            return c.SignalResult(
                req.kind,
                req.exchange,
                req.symbol,
                req.bar_start_us,
                status,
                None,
                None,
                None,
                None,
                None,
                None,
                job.request_hash,
                cache_hit,
                error,
            )
        model = self.routing.models.get(record["model_id"])
        cutoff = model.cutoff if model else date.fromisoformat(record["model_cutoff"])
        return c.SignalResult(
            req.kind,
            req.exchange,
            req.symbol,
            req.bar_start_us,
            c.STATUS_OK,
            record["value"],
            record["confidence"],
            record["label"],
            record["model_id"],
            cutoff,
            record["available_at_us"],
            job.request_hash,
            cache_hit,
            None,
        )

    def _ledger(
        self,
        job: _Job,
        status: str,
        spend: _Spend,
        *,
        model_returned: str | None,
        latency_ms: float,
        cache_hit: bool,
        requested_at_us: int,
        answered_by: ModelInfo | None = None,
    ) -> c.LedgerRow:
        error = "; ".join(dict.fromkeys(spend.errors))[:500] or None
        return c.LedgerRow(
            request_hash=job.request_hash,
            kind=job.req.kind,
            provider=self.provider_of(answered_by or job.chain[0]),
            model_requested=job.chain[0].id,
            model_returned=model_returned,
            tokens_in=spend.tokens_in,
            tokens_out=spend.tokens_out,
            cost_usd=round(spend.cost_usd, 10),
            estimated=spend.estimated,
            latency_ms=round(latency_ms, 3),
            attempts=spend.attempts,
            cache_hit=cache_hit,
            status=status,
            error=redact(error, self._secrets) if error else None,
            requested_at_us=requested_at_us,
            day=bar_date(job.req.bar_start_us),
        )

    # ------------------------------------------------------------------ sending
    async def _attempt(
        self,
        model: ModelInfo,
        body: bytes,
        key: str,
        worst_usd: float,
        worst_tokens: int,
        max_tokens: int,
        spend: _Spend,
    ) -> ChatResponse:
        """One HTTP attempt guarded by breaker, budget and rate limiter; accounts its cost."""
        assert self.budget is not None
        client = self._clients[self.provider_of(model)]
        breaker = self.breaker(model)
        if not breaker.allow():
            raise BreakerOpen(f"circuit open for {model.id}")
        if not await self.budget.reserve(worst_usd):
            breaker.release()
            raise BudgetExhausted(f"budget cap reached before sending to {model.id}")
        limiter = self._limiter(model)
        verdict = False  # did the breaker get a success/failure for this attempt?
        settled = False  # was the reservation replaced by a real cost?
        try:
            async with limiter.slot(worst_tokens):
                spend.attempts += 1
                self.http_requests += 1
                try:
                    resp = await client.chat(body, key, self.policy.retry_after_cap_s)
                except AttemptError as err:
                    spend.errors.append(f"{model.id}: {err.message}")
                    if err.billed:
                        # A 200 with an unreadable body was probably billed: charge the worst
                        # case, flagged as estimated, so the budget stays a hard bound.
                        self._pay(spend, worst_usd, worst_usd, None, 0)
                        settled = True
                    if err.counts_for_breaker:
                        cap = self.policy.retry_after_cap_s
                        long_wait = err.retry_after_s if (err.retry_after_s or 0) > cap else None
                        breaker.record_failure(long_wait)
                        verdict = True
                    raise
                breaker.record_success()
                verdict = True
                limiter.refund_tokens(worst_tokens - _tokens_used(resp, worst_tokens))
                tin, tout, _ = _usage(resp, worst_tokens - max_tokens)
                self._pay(spend, worst_usd, model.cost(tin, tout), resp, worst_tokens - max_tokens)
                settled = True
                return resp
        finally:
            if not settled:
                self.budget.release(worst_usd)
            if not verdict:
                breaker.release()

    def _pay(
        self,
        spend: _Spend,
        reserved: float,
        cost: float,
        resp: ChatResponse | None,
        bytes_in: int,
    ) -> None:
        """Settle a reservation with the real cost and add the usage to the job's spend."""
        assert self.budget is not None
        self.budget.settle(reserved, cost)
        if resp is not None:
            tin, tout, estimated = _usage(resp, bytes_in)
            spend.tokens_in += tin
            spend.tokens_out += tout
            spend.estimated |= estimated
        else:
            spend.estimated = True
        spend.cost_usd += cost

    async def _ask_model(
        self, job: _Job, model: ModelInfo, spend: _Spend
    ) -> tuple[str, dict[str, Any] | None]:
        """Retries + one repair for one model; returns (status, cache record or None)."""
        kind = job.req.kind
        messages = job.messages
        messages_json = job.messages_json
        key = job.keys[model.id]
        repaired = False
        started = time.monotonic()
        while True:
            body = self._body(model, kind, job.max_tokens, messages_json)
            worst_in = len(body)  # UTF-8 bytes bound the token count of any BPE tokenizer
            worst_tokens = worst_in + job.max_tokens
            worst_usd = model.cost(worst_in, job.max_tokens)
            try:
                resp = await self.policy.call(
                    functools.partial(
                        self._attempt,
                        model,
                        body,
                        key,
                        worst_usd,
                        worst_tokens,
                        job.max_tokens,
                        spend,
                    )
                )
            except BudgetExhausted as exc:
                spend.errors.append(str(exc))
                return c.STATUS_BUDGET_EXHAUSTED, None
            except BreakerOpen as exc:
                spend.errors.append(str(exc))
                return c.STATUS_BREAKER_OPEN, None
            except AttemptError as exc:
                cap = self.policy.retry_after_cap_s
                if exc.retry_after_s is not None and exc.retry_after_s > cap:
                    return c.STATUS_BREAKER_OPEN, None
                return c.STATUS_PROVIDER_ERROR, None
            try:
                parsed = parse_answer(kind, resp.content)
            except SchemaError as exc:
                spend.errors.append(f"{model.id}: {exc}")
                if repaired:
                    return c.STATUS_PARSE_ERROR, None
                repaired = True
                messages = repair_messages(job.messages, resp.content or "", str(exc))
                messages_json = _canon(messages)
                # A new body needs its own idempotency key, or a relay could replay the bad answer.
                key = job.keys[model.id] + "-repair"
                continue
            latency_us = int((time.monotonic() - started) * 1e6)
            req = job.req
            return c.STATUS_OK, {
                "value": parsed.value,
                "confidence": parsed.confidence,
                "label": parsed.label,
                "model_id": model.id,
                "model_returned": resp.model,
                "model_cutoff": model.cutoff.isoformat(),
                "available_at_us": req.bar_start_us + req.window_us + latency_us,
                "latency_ms": latency_us / 1000,
                "answered_at_us": _now_us(),
            }

    async def _persist(self, items: list[tuple[str, dict[str, Any]]], spend: _Spend) -> None:
        """One transaction: the answer (if any) and the job's paid USD for the day total.

        Returns once committed: a job is never reported done before its answer is durable.
        """
        assert self._writer is not None and self.budget is not None
        if not items and spend.cost_usd <= 0:
            return
        await self._writer.write(items, (_today(), spend.cost_usd))
        self.budget.persisted(spend.cost_usd)

    async def _answer(self, job: _Job, eligible: list[ModelInfo]) -> None:
        """Walk the fallback chain until a model answers; fill job.result and job.ledger."""
        assert self._cache is not None
        spend = _Spend()
        requested_at = _now_us()
        t0 = time.monotonic()
        status = c.STATUS_PROVIDER_ERROR
        for model in eligible:
            if self.breaker(model).is_open():
                spend.errors.append(f"circuit open for {model.id}")
                status = c.STATUS_BREAKER_OPEN
                continue
            status, record = await self._ask_model(job, model, spend)
            if record is not None:
                await self._persist([(job.keys[model.id], record)], spend)
                job.result = self._result(job, c.STATUS_OK, record=record)
                job.ledger = self._ledger(
                    job,
                    c.STATUS_OK,
                    spend,
                    model_returned=record["model_returned"],
                    answered_by=model,
                    latency_ms=(time.monotonic() - t0) * 1000,
                    cache_hit=False,
                    requested_at_us=requested_at,
                )
                return
            if status == c.STATUS_BUDGET_EXHAUSTED:
                break
        await self._persist([], spend)
        error = "; ".join(dict.fromkeys(spend.errors))[:500] or status
        job.result = self._result(job, status, error=redact(error, self._secrets))
        job.ledger = self._ledger(
            job,
            status,
            spend,
            model_returned=None,
            latency_ms=(time.monotonic() - t0) * 1000,
            cache_hit=False,
            requested_at_us=requested_at,
        )

    # ------------------------------------------------------------------ the run
    def _close(
        self,
        job: _Job,
        status: str,
        *,
        record: dict[str, Any] | None = None,
        cache_hit: bool = False,
        error: str | None = None,
    ) -> None:
        """Settle a job that needs no sending (cache hit, refused, replay miss)."""
        job.result = self._result(job, status, record=record, cache_hit=cache_hit, error=error)
        job.ledger = self._ledger(
            job,
            status,
            _Spend(),
            model_returned=record["model_returned"] if record else None,
            answered_by=self.routing.models.get(record["model_id"]) if record else None,
            latency_ms=0.0,
            cache_hit=cache_hit,
            requested_at_us=_now_us(),
        )

    def prepare(
        self, requests: Sequence[c.SignalRequest]
    ) -> tuple[list[str], dict[str, _Job], list[tuple[_Job, list[ModelInfo]]]]:
        """Plan, dedupe, guard and look up the cache; returns (order, jobs, still to send)."""
        order: list[str] = []
        jobs: dict[str, _Job] = {}
        todo, _ = self._prepare_into(requests, order, jobs, {})
        return order, jobs, todo

    def _prepare_into(
        self,
        requests: Sequence[c.SignalRequest],
        order: list[str],
        jobs: dict[str, _Job],
        counts: dict[str, int],
    ) -> tuple[list[tuple[_Job, list[ModelInfo]]], int]:
        """Add `requests` to a run; returns (jobs to send, requests settled right away).

        `counts[h]` is how many requests of the run share job h and are not yet settled.
        """
        if self._cache is None:
            raise RuntimeError("use `async with Gateway(config) as gw:` first")
        new: list[_Job] = []
        settled = 0
        for req in requests:
            job = self._plan(req)
            h = job.request_hash
            order.append(h)
            known = jobs.get(h)
            if known is None:
                jobs[h] = job
                counts[h] = 1
                new.append(job)
            elif known.result is not None:
                settled += 1
            else:
                counts[h] += 1
        todo: list[tuple[_Job, list[ModelInfo]]] = []
        hits = self._cache.get_many(k for j in new for k in j.keys.values())
        for job in new:
            bar_start = job.req.bar_start_us
            eligible = [
                m for m in job.chain if allowed(bar_start, m.cutoff, self.config.allow_in_sample)
            ]
            record = next((hits[job.keys[m.id]] for m in eligible if job.keys[m.id] in hits), None)
            if not eligible:
                names = ", ".join(m.id for m in job.chain)
                self._close(
                    job,
                    c.STATUS_LOOKAHEAD_REFUSED,
                    error=f"bar {bar_date(bar_start)} is before the knowledge cutoff of every "
                    f"model in the chain ({names})",
                )
            elif record is not None:
                self._close(job, c.STATUS_OK, record=record, cache_hit=True)
            elif self.config.replay_only:
                self._close(job, c.STATUS_REPLAY_MISS, error="replay_only: no cached answer")
            else:
                todo.append((job, eligible))
                continue
            settled += counts[job.request_hash]
        return todo, settled

    async def generate(
        self,
        requests: Sequence[c.SignalRequest],
        on_progress: ProgressCallback | None = None,
    ) -> c.GatewayReport:
        """Answer every request; results come back in request order.

        Requests are planned in chunks while the first ones are already in flight, so planning
        (prompt building, hashing, cache lookups) overlaps network waits.
        """
        t_start = time.monotonic()
        http_before = self.http_requests
        order: list[str] = []
        jobs: dict[str, _Job] = {}
        counts: dict[str, int] = {}
        total = len(requests)
        state = {"done": 0}
        n_workers = max(1, self.config.max_concurrency)
        queue: asyncio.Queue[tuple[_Job, list[ModelInfo]] | None] = asyncio.Queue()

        async def producer() -> None:
            try:
                for i in range(0, total, _PLAN_CHUNK):
                    todo, settled = self._prepare_into(
                        requests[i : i + _PLAN_CHUNK], order, jobs, counts
                    )
                    state["done"] += settled
                    for item in todo:
                        queue.put_nowait(item)
                    await asyncio.sleep(0)  # let workers send what is planned
            finally:
                for _ in range(n_workers):
                    queue.put_nowait(None)

        async def worker() -> None:
            while (item := await queue.get()) is not None:
                job, eligible = item
                await self._answer(job, eligible)
                state["done"] += counts[job.request_hash]

        progress_task = None
        if on_progress is not None:
            progress_task = asyncio.create_task(
                self._progress_loop(on_progress, state, total, t_start, http_before, jobs)
            )
        try:
            await asyncio.gather(producer(), *(worker() for _ in range(n_workers)))
        finally:
            if progress_task is not None:
                progress_task.cancel()
        report = self._report(order, jobs, http_before)
        if on_progress is not None:
            on_progress(self._snapshot(total, total, t_start, http_before, jobs))
        return report

    def _report(self, order: list[str], jobs: dict[str, _Job], http_before: int) -> c.GatewayReport:
        results: list[c.SignalResult] = []
        ledger: list[c.LedgerRow] = []
        seen: set[str] = set()
        for h in order:
            job = jobs[h]
            assert job.result is not None and job.ledger is not None
            if h in seen:
                # A duplicate inside the run: answered by the first occurrence, costs nothing.
                dup = c.SignalResult(
                    **{**job.result.__dict__, "cache_hit": job.result.status == c.STATUS_OK}
                )
                results.append(dup)
                ledger.append(
                    c.LedgerRow(
                        **{
                            **job.ledger.__dict__,
                            "tokens_in": 0,
                            "tokens_out": 0,
                            "cost_usd": 0.0,
                            "attempts": 0,
                            "latency_ms": 0.0,
                            "cache_hit": dup.cache_hit,
                            "estimated": False,
                        }
                    )
                )
                continue
            seen.add(h)
            results.append(job.result)
            ledger.append(job.ledger)
        not_sent = sum(1 for r in ledger if r.status == c.STATUS_BUDGET_EXHAUSTED)
        return c.GatewayReport(
            results=results,
            ledger=ledger,
            http_requests=self.http_requests - http_before,
            cache_hits=sum(1 for r in results if r.cache_hit),
            cost_usd=round(sum(r.cost_usd for r in ledger), 10),
            not_sent=not_sent,
        )

    def _snapshot(
        self, done: int, total: int, t_start: float, http_before: int, jobs: dict[str, _Job]
    ) -> c.Progress:
        elapsed = time.monotonic() - t_start
        finished = [j for j in jobs.values() if j.ledger is not None]
        return c.Progress(
            done=done,
            total=total,
            elapsed_s=round(elapsed, 3),
            rate_per_s=done / elapsed if elapsed > 0 else 0.0,
            cost_usd=self.budget.spent if self.budget else 0.0,
            cache_hits=sum(1 for j in finished if j.ledger and j.ledger.cache_hit),
            http_requests=self.http_requests - http_before,
            failed=sum(1 for j in finished if j.result and j.result.status != c.STATUS_OK),
        )

    async def _progress_loop(
        self,
        callback: ProgressCallback,
        state: dict[str, int],
        total: int,
        t_start: float,
        http_before: int,
        jobs: dict[str, _Job],
    ) -> None:
        while True:
            await asyncio.sleep(self.config.progress_interval_s)
            try:
                callback(self._snapshot(state["done"], total, t_start, http_before, jobs))
            except Exception:  # a broken callback must not kill the run
                log.exception("LLM progress callback failed")


def _canon(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@functools.lru_cache(maxsize=256)
def _canon_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _usage(resp: ChatResponse, bytes_in: int) -> tuple[int, int, bool]:
    """(tokens_in, tokens_out, estimated): exact from usage, else ~4 bytes per token."""
    if resp.usage is not None:
        return resp.usage["prompt_tokens"], resp.usage["completion_tokens"], False
    return max(1, -(-bytes_in // 4)), max(1, -(-len(resp.content or "") // 4)), True


def _tokens_used(resp: ChatResponse, worst: int) -> int:
    if resp.usage is None:
        return worst
    return resp.usage["prompt_tokens"] + resp.usage["completion_tokens"]


@contextlib.contextmanager
def _fewer_gc_pauses() -> Iterator[None]:
    """Keep the cyclic collector out of the hot loop while a run lasts.

    Every request allocates short-lived dicts, bytes and futures; with the default gen-0
    threshold (700) the collector keeps rescanning the long-lived objects (modules, routing
    table, clients), which measured ~13% of the client's CPU per request at 64 concurrent calls.
    Freezing what exists before the run and raising the threshold removes most of that; both
    are restored afterwards.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 100_000), threshold[1], threshold[2])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def run_in_loop(make: Callable[[], Any]) -> Any:
    """Run the coroutine `make()` in a fresh event loop (uvloop when available).

    If the calling thread already runs an event loop (e.g. an async Dagster op), the loop runs
    in a helper thread instead, so callers never need to care.
    """

    def _run() -> Any:
        try:
            import uvloop

            factory: Any = uvloop.new_event_loop
        except ImportError:  # pragma: no cover - uvloop is optional
            factory = None
        with asyncio.Runner(loop_factory=factory) as runner, _fewer_gc_pauses():
            return runner.run(make())

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _run()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(_run).result()


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
