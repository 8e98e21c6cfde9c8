"""Sending: HTTP attempts of one call to one model, and what each attempt cost.

Per attempt: breaker -> budget reservation of the worst case -> rate limiter -> one HTTP
attempt (retried by the single tenacity layer) -> the reservation replaced by the real price of
the reported usage (cached tokens at the cached rate). Per model: the answer is validated; a
broken answer gets one repair retry that shows the model its invalid answer and the reason.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import Any

from tardis_assets.lib.errors import BudgetError, ProviderError
from tardis_assets.lib.llm import contracts as c
from tardis_assets.lib.llm.breaker import CircuitBreaker
from tardis_assets.lib.llm.budget import Budget
from tardis_assets.lib.llm.canonical import canon
from tardis_assets.lib.llm.client import ChatClient, ChatResponse
from tardis_assets.lib.llm.keys import repair_key
from tardis_assets.lib.llm.limiter import ModelLimiter
from tardis_assets.lib.llm.planning import Call, Planner
from tardis_assets.lib.llm.prompts import repair_messages
from tardis_assets.lib.llm.retry import AttemptError, RetryPolicy, redact
from tardis_assets.lib.llm.routing import ModelInfo
from tardis_assets.lib.llm.schemas import Parsed, SchemaError
from tardis_assets.lib.llm.usage import Spend, Usage, estimated_usage, price


class BudgetExhausted(BudgetError):
    """The next attempt's worst-case cost does not fit under a cap."""


class BreakerOpen(ProviderError):
    """The model's circuit is open: nothing was sent."""


class Sender:
    """HTTP attempts for a run: one breaker and limiter per model, one budget, one policy."""

    def __init__(
        self,
        config: c.GatewayConfig,
        planner: Planner,
        clients: Mapping[str, ChatClient],
        budget: Budget,
        secrets: list[str],
    ) -> None:
        self.config = config
        self.planner = planner
        self.clients = clients
        self.budget = budget
        self.secrets = secrets
        self.policy = RetryPolicy(
            max_attempts=config.max_attempts,
            max_elapsed_s=config.max_elapsed_s,
            initial_s=config.backoff_initial_s,
            max_s=config.backoff_max_s,
            retry_after_cap_s=config.retry_after_cap_s,
        )
        self.breakers: dict[tuple[str, str], CircuitBreaker] = {}
        self._limiters: dict[str, ModelLimiter] = {}
        self.http_requests = 0
        self.last_error: str | None = None

    def breaker(self, model: ModelInfo) -> CircuitBreaker:
        key = (self.planner.provider_of(model), model.id)
        br = self.breakers.get(key)
        if br is None:
            br = CircuitBreaker(
                self.config.breaker_failure_threshold, self.config.breaker_cooldown_s
            )
            self.breakers[key] = br
        return br

    def _limiter(self, model: ModelInfo) -> ModelLimiter:
        lim = self._limiters.get(model.id)
        if lim is None:
            lim = ModelLimiter(model.max_concurrency, model.rps, model.tpm)
            self._limiters[model.id] = lim
        return lim

    def note_error(self, text: str) -> None:
        self.last_error = redact(text, self.secrets)[:300]

    async def attempt(
        self,
        model: ModelInfo,
        body: bytes,
        key: str,
        worst_usd: float,
        max_tokens: int,
        spend: Spend,
    ) -> ChatResponse:
        """One HTTP attempt guarded by breaker, budget and rate limiter; accounts its cost."""
        client = self.clients[self.planner.provider_of(model)]
        breaker = self.breaker(model)
        if not breaker.allow():
            raise BreakerOpen(f"circuit open for {model.id}")
        if not await self.budget.reserve(worst_usd):
            breaker.release()
            raise BudgetExhausted(f"budget cap reached before sending to {model.id}")
        limiter = self._limiter(model)
        worst_tokens = len(body) + max_tokens
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
                    self.note_error(f"{model.id}: {err.message}")
                    if err.billed:
                        # A 200 with an unreadable body was probably billed: charge the worst
                        # case, flagged as estimated, so the budget stays a hard bound.
                        self.budget.settle(worst_usd, worst_usd)
                        spend.add(model.id, None, worst_usd)
                        settled = True
                    if err.counts_for_breaker:
                        cap = self.policy.retry_after_cap_s
                        long_wait = err.retry_after_s if (err.retry_after_s or 0) > cap else None
                        breaker.record_failure(long_wait)
                        verdict = True
                    raise
                breaker.record_success()
                verdict = True
                usage: Usage = resp.usage or estimated_usage(len(body), resp.content)
                used = usage.prompt_tokens + usage.completion_tokens
                limiter.refund_tokens(worst_tokens - used if resp.usage else 0)
                cost = price(model, usage)
                self.budget.settle(worst_usd, cost)
                spend.add(model.id, usage, cost)
                spend.replayed += resp.replayed
                settled = True
                return resp
        finally:
            if not settled:
                self.budget.release(worst_usd)
            if not verdict:
                breaker.release()

    async def ask(
        self, call: Call, model: ModelInfo, spend: Spend
    ) -> tuple[str, list[Parsed | SchemaError] | None, ChatResponse | None, int]:
        """Retries + one repair for one model: (status, per-unit answers, response, latency µs).

        The answers are None unless the call's envelope parsed; single items may still have
        failed (packed calls), which the caller asks again alone.
        """
        messages_json = call.messages_json
        key = call.idempotency_key(model)
        repaired = False
        started = time.monotonic()
        while True:
            body = self.planner.body(call, model, messages_json)
            # UTF-8 bytes bound the token count of any BPE tokenizer: the worst case.
            worst_usd = model.cost(len(body), call.max_tokens)
            try:
                resp = await self.policy.call(
                    functools.partial(
                        self.attempt, model, body, key, worst_usd, call.max_tokens, spend
                    )
                )
            except BudgetExhausted as exc:
                spend.errors.append(str(exc))
                return c.STATUS_BUDGET_EXHAUSTED, None, None, 0
            except BreakerOpen as exc:
                spend.errors.append(str(exc))
                return c.STATUS_BREAKER_OPEN, None, None, 0
            except AttemptError as exc:
                cap = self.policy.retry_after_cap_s
                if exc.retry_after_s is not None and exc.retry_after_s > cap:
                    return c.STATUS_BREAKER_OPEN, None, None, 0
                return c.STATUS_PROVIDER_ERROR, None, None, 0
            try:
                parsed = call.parse(resp.content)
            except SchemaError as exc:
                spend.errors.append(f"{model.id}: {exc}")
                self.note_error(f"{model.id}: {exc}")
                if repaired:
                    return c.STATUS_PARSE_ERROR, None, None, 0
                repaired = True
                messages = repair_messages(call.messages, resp.content or "", str(exc))
                messages_json = canon(messages)
                key = repair_key(call.idempotency_key(model))
                continue
            for item in parsed:
                if isinstance(item, SchemaError):
                    spend.errors.append(f"{model.id}: {item}")
            return c.STATUS_OK, parsed, resp, int((time.monotonic() - started) * 1e6)


def breaker_states(sender: Sender) -> tuple[dict[str, str], dict[str, int]]:
    """Model -> breaker state and times opened, for the run's report."""
    states: dict[str, str] = {}
    opened: dict[str, int] = {}
    for (_, model), br in sender.breakers.items():
        states[model] = "open" if br.is_open() else br.state
        opened[model] = br.times_opened
    return states, opened


def record_of(
    call: Call, parsed: Parsed, model: ModelInfo, resp: ChatResponse, latency_us: int, share: float
) -> dict[str, Any]:
    """What the cache keeps for one answered unit (legacy records keep their available_at)."""
    unit = call.units[0]
    record: dict[str, Any] = {
        "value": parsed.value,
        "confidence": parsed.confidence,
        "label": parsed.label,
        "model_id": model.id,
        "model_returned": resp.model,
        "model_cutoff": model.cutoff.isoformat(),
        "latency_ms": latency_us / 1000,
        "latency_us": latency_us,
        "answered_at_us": time.time_ns() // 1000,
        "cost_usd": share,
    }
    if call.legacy:
        record["available_at_us"] = unit.bar_start_us + unit.window_us + latency_us
    return record
