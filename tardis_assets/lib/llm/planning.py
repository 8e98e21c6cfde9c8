"""Planning: requests and questions become units (cached alone) and calls (sent together).

A unit is one question with its cache key per model of its route, its look-ahead eligibility
and, once settled, its outcome. A call is what one HTTP request asks: one legacy request (one
window, the original prompt and keys), or up to `pack_size` packed questions that share a pack
label. Bodies are composed from canonical parts, so the text hashed for keys is the text sent.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tardis_assets.lib.llm import contracts as c
from tardis_assets.lib.llm.canonical import canon, canon_str
from tardis_assets.lib.llm.guard import allowed, bar_date
from tardis_assets.lib.llm.keys import cache_key_from_parts, pack_key
from tardis_assets.lib.llm.packing import (
    PACKED_PROMPT_VERSION,
    item_schema,
    packed_messages,
    packed_response_format,
    parse_packed,
)
from tardis_assets.lib.llm.prompts import PROMPT_VERSION, build_messages
from tardis_assets.lib.llm.providers import ROUTING, Endpoint
from tardis_assets.lib.llm.routing import ModelInfo, RoutingTable
from tardis_assets.lib.llm.schemas import (
    SCHEMAS,
    Parsed,
    SchemaError,
    parse_answer,
    response_format,
)
from tardis_assets.lib.llm.usage import Spend


@dataclass
class Outcome:
    """How a unit was settled."""

    status: str
    record: dict[str, Any] | None = None
    cache_hit: bool = False
    waited: bool = False
    error: str | None = None
    spend: Spend | None = None  # the call's spend (legacy ledger rows)
    latency_ms: float = 0.0
    requested_at_us: int = 0
    answered_by: ModelInfo | None = None
    available_at_us: int | None = None


@dataclass(eq=False)
class Unit:
    kind: str
    key: str  # cache key of the chain's primary model: the request_hash
    keys: dict[str, str]  # model id -> cache key
    chain: list[ModelInfo]
    max_tokens: int  # per question
    bar_start_us: int
    window_us: int
    asked_at_us: int
    day: date
    pack: str
    request: c.SignalRequest | None = None  # legacy prompt
    item: Mapping[str, Any] | None = None  # packed prompt
    eligible: list[ModelInfo] = field(default_factory=list)
    outcome: Outcome | None = None


@dataclass(eq=False)
class Call:
    kind: str
    units: list[Unit]
    messages: list[dict[str, str]]
    messages_json: str
    max_tokens: int
    legacy: bool

    @property
    def asked_at_us(self) -> int:
        return max(u.asked_at_us for u in self.units)

    @property
    def day(self) -> date:
        return self.units[0].day

    def idempotency_key(self, model: ModelInfo) -> str:
        if self.legacy:
            return self.units[0].keys[model.id]
        return pack_key(model.id, [u.keys[model.id] for u in self.units])

    def parse(self, content: str | None) -> list[Parsed | SchemaError]:
        """Per unit its answer or its item's error; raises SchemaError for the whole call."""
        if self.legacy:
            return [parse_answer(self.kind, content)]
        parsed = parse_packed(self.kind, content, len(self.units))
        if len(parsed) == 1 and isinstance(parsed[0], SchemaError):
            raise parsed[0]  # a single item has nobody to fail alone against: repair it
        return parsed


class Planner:
    """Keys, eligibility and bodies for one run's configuration and routing table."""

    def __init__(
        self, config: c.GatewayConfig, routing: RoutingTable, endpoints: Mapping[str, Endpoint]
    ) -> None:
        self.config = config
        self.routing = routing
        self.endpoints = endpoints
        self._params_json: dict[tuple[str, str, int, bool], str] = {}
        self._schema_json = {k: canon(v) for k, v in SCHEMAS.items()}
        self._item_schema_json = {k: canon(item_schema(k)) for k in SCHEMAS}

    def provider_of(self, model: ModelInfo) -> str:
        """Which provider serves `model` in this run."""
        return model.provider if self.config.provider == ROUTING else self.config.provider

    def identity(self, model: ModelInfo) -> str:
        return self.endpoints[self.provider_of(model)].cache_identity

    def params(self, model: ModelInfo, kind: str, max_tokens: int, packed: bool) -> str:
        """Canonical JSON of every request parameter besides model and messages (memoized)."""
        memo = (model.id, kind, max_tokens, packed)
        text = self._params_json.get(memo)
        if text is None:
            fmt = (packed_response_format if packed else response_format)(kind, model.json_schema)
            text = canon(
                {
                    "temperature": self.config.temperature,
                    "max_tokens": max_tokens,
                    "response_format": fmt,
                }
            )
            self._params_json[memo] = text
        return text

    def _route(self, kind: str) -> tuple[list[ModelInfo], int]:
        route = self.routing.chain_for(kind, dict(self.config.routes or {}))
        return [self.routing.models[m] for m in route.chain], route.max_tokens

    def _eligible(self, unit: Unit) -> Unit:
        unit.eligible = [
            m
            for m in unit.chain
            if allowed(unit.bar_start_us, m.cutoff, self.config.allow_in_sample)
        ]
        return unit

    def legacy_unit(self, req: c.SignalRequest) -> tuple[Unit, Call]:
        """The original one-window prompt; its keys are the keys every earlier run used."""
        chain, max_tokens = self._route(req.kind)
        messages = build_messages(req)
        messages_json = canon(messages)
        keys = {
            m.id: cache_key_from_parts(
                self.identity(m),
                m.id,
                messages_json,
                self.params(m, req.kind, max_tokens, packed=False),
                self._schema_json[req.kind],
                PROMPT_VERSION,
            )
            for m in chain
        }
        end = req.bar_start_us + req.window_us
        unit = Unit(
            req.kind, keys[chain[0].id], keys, chain, max_tokens, req.bar_start_us,
            req.window_us, end, bar_date(req.bar_start_us), "", request=req,
        )  # fmt: skip
        call = Call(req.kind, [unit], messages, messages_json, max_tokens, legacy=True)
        return self._eligible(unit), call

    def packed_unit(self, q: c.Question) -> Unit:
        """A question keyed by its item alone (packing never changes the key)."""
        chain, max_tokens = self._route(q.kind)
        item_json = canon(dict(q.item))
        keys = {
            m.id: cache_key_from_parts(
                self.identity(m),
                m.id,
                item_json,
                canon({"temperature": self.config.temperature, "json_schema": m.json_schema}),
                self._item_schema_json[q.kind],
                PACKED_PROMPT_VERSION,
            )
            for m in chain
        }
        unit = Unit(
            q.kind, keys[chain[0].id], keys, chain, max_tokens, q.bar_start_us,
            max(q.asked_at_us - q.bar_start_us, 0), q.asked_at_us, q.day, q.pack, item=q.item,
        )  # fmt: skip
        return self._eligible(unit)

    def packed_call(self, units: Sequence[Unit]) -> Call:
        kind = units[0].kind
        messages = packed_messages(kind, [u.item or {} for u in units])
        return Call(
            kind,
            list(units),
            messages,
            canon(messages),
            sum(u.max_tokens for u in units),
            legacy=False,
        )

    def group(self, units: Iterable[Unit], pack_size: int) -> list[Call]:
        """Packed units into calls: same pack label and day, consecutive, at most pack_size."""
        calls = []
        size = max(1, pack_size)
        for _, same in itertools.groupby(units, key=lambda u: (u.pack, u.day, u.kind)):
            members = list(same)
            for i in range(0, len(members), size):
                calls.append(self.packed_call(members[i : i + size]))
        return calls

    def body(self, call: Call, model: ModelInfo, messages_json: str | None = None) -> bytes:
        """The request body, composed from canonical parts (no re-serialization of messages)."""
        params = self.params(model, call.kind, call.max_tokens, packed=not call.legacy)
        text = (
            '{"messages":' + (messages_json or call.messages_json)
            + ',"model":' + canon_str(model.id) + "," + params[1:]
        )  # fmt: skip
        return text.encode("utf-8")

    def plan_requests(
        self, requests: Sequence[c.SignalRequest]
    ) -> tuple[list[str], dict[str, Unit], dict[str, Call]]:
        """(request order as keys, unique units, their calls), deduplicated."""
        order: list[str] = []
        units: dict[str, Unit] = {}
        calls: dict[str, Call] = {}
        for req in requests:
            unit, call = self.legacy_unit(req)
            order.append(unit.key)
            if unit.key not in units:
                units[unit.key], calls[unit.key] = unit, call
        return order, units, calls

    def plan_questions(self, questions: Sequence[c.Question]) -> tuple[list[Unit], dict[str, Unit]]:
        """(one unit per question, the unique ones by key)."""
        planned = [self.packed_unit(q) for q in questions]
        units: dict[str, Unit] = {}
        for unit in planned:
            units.setdefault(unit.key, unit)
        return planned, units
