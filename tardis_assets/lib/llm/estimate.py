"""The bill before the run: calls, tokens and dollars of a set of requests, without sending.

Planning is the gateway's own (same units, keys, guard, cache lookups, packing), so the calls
counted are the calls a run would send. Tokens and answers follow the offline stand-in's rules
(offline_answers): for the offline provider the estimate is the bill of a run on a fresh
stand-in (the `llm` resource starts one per run), to the cent; for real providers the token
counts are approximations (~4 characters per token, answers as long as the stand-in's) and no
prompt-cache discount is assumed. Questions already answered in the cache are "owned": they cost
nothing now, and `owned_usd` is what they cost when they were paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tardis_assets.lib.llm import contracts as c
from tardis_assets.lib.llm.cache import ResponseCache
from tardis_assets.lib.llm.offline_answers import PrefixCache, answer_content, prompt_text, tokens
from tardis_assets.lib.llm.planning import Call, Planner, Unit
from tardis_assets.lib.llm.providers import ROUTING, resolve
from tardis_assets.lib.llm.routing import load_routing


@dataclass
class Estimate:
    questions: int = 0  # unique questions (or legacy requests) planned
    refused: int = 0  # before every model's cutoff: never sent
    cache_hits: int = 0  # already owned (in the cache, or bought earlier in the same estimate)
    owned_usd: float = 0.0
    calls: int = 0
    tokens_in: int = 0
    tokens_cached: int = 0
    tokens_out: int = 0
    usd_online: float = 0.0
    usd_batch: float = 0.0
    exact: bool = True  # True for the offline provider

    def line(self) -> str:
        exact = "" if self.exact else " (approximate: not the offline provider)"
        return (
            f"{self.calls:,} calls for {self.questions:,} questions ({self.cache_hits:,} owned, "
            f"{self.refused:,} refused as in-sample), {self.tokens_in:,} tokens in "
            f"({self.tokens_cached:,} cached), {self.tokens_out:,} out: ${self.usd_online:.4f} "
            f"online, ${self.usd_batch:.4f} batch{exact}"
        )


class Estimator:
    """Adds up what planned requests would cost; one instance = one run on one stand-in."""

    def __init__(self, config: c.GatewayConfig) -> None:
        self.config = config
        routing = load_routing(config.routing_path)
        names = (
            sorted({m.provider for m in routing.models.values()})
            if config.provider == ROUTING
            else [config.provider]
        )
        endpoints = {n: resolve(config, n, require_url=False) for n in names}
        self.planner = Planner(config, routing, endpoints)
        self.exact = all(n == "offline" for n in names)
        self.prefixes = PrefixCache()
        self.bought: set[str] = set()
        self.total = Estimate(exact=self.exact)
        path = config.cache_path
        self._cache = ResponseCache(path) if path.exists() else None

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()

    def __enter__(self) -> Estimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _screen(self, units: Sequence[Unit]) -> list[Unit]:
        hits = (
            self._cache.get_many(k for u in units for k in u.keys.values()) if self._cache else {}
        )
        todo = []
        for unit in units:
            self.total.questions += 1
            keys = [unit.keys[m.id] for m in unit.eligible]
            record = next((hits[k] for k in keys if k in hits), None)
            if not unit.eligible:
                self.total.refused += 1
            elif record is not None:
                self.total.cache_hits += 1
                self.total.owned_usd += float(record.get("cost_usd") or 0.0)
            elif unit.key in self.bought:
                self.total.cache_hits += 1
            elif not self.config.replay_only:
                self.bought.add(unit.key)
                todo.append(unit)
        return todo

    def add_requests(self, requests: Sequence[c.SignalRequest]) -> None:
        seen: dict[str, Call] = {}
        for req in requests:
            unit, call = self.planner.legacy_unit(req)
            seen.setdefault(unit.key, call)
        todo = self._screen([call.units[0] for call in seen.values()])
        for unit in todo:
            self._price(seen[unit.key])

    def add_questions(self, questions: Sequence[c.Question], pack_size: int) -> None:
        units: dict[str, Unit] = {}
        for q in questions:
            unit = self.planner.packed_unit(q)
            units.setdefault(unit.key, unit)
        for call in self.planner.group(self._screen(list(units.values())), pack_size):
            self._price(call)

    def _price(self, call: Call) -> None:
        model = call.units[0].eligible[0]
        text = prompt_text(call.messages)
        prompt = tokens(text)
        cached = self.prefixes.observe(model.id, text) if self.exact else 0
        completion = tokens(answer_content(call.messages))
        self.total.calls += 1
        self.total.tokens_in += prompt
        self.total.tokens_cached += cached
        self.total.tokens_out += completion
        self.total.usd_online += model.cost(prompt, completion, cached=cached)
        self.total.usd_batch += model.cost(prompt, completion, batch=True)
