"""Token usage as providers report it, and what it costs.

OpenAI reports `usage.prompt_tokens` (cached tokens included) with the cached part in
`prompt_tokens_details.cached_tokens`, and reasoning tokens in
`completion_tokens_details.reasoning_tokens` (already counted in `completion_tokens`, billed as
output). DeepSeek reports the cached part as `prompt_cache_hit_tokens` (plus
`prompt_cache_miss_tokens`; the two add up to `prompt_tokens`). The ledger prices cached tokens
at the model's cached-input rate, keeps the reasoning count, and stores the raw usage object.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from tardis_assets.lib.llm.routing import ModelInfo


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    raw: str | None = None  # the provider's usage object, compact JSON as received
    estimated: bool = False


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def parse_usage(raw: Any) -> Usage | None:
    """The usage object of a completion, or None when it is missing or unreadable."""
    if not isinstance(raw, dict):
        return None
    prompt = _count(raw.get("prompt_tokens"))
    completion = _count(raw.get("completion_tokens"))
    if prompt is None or completion is None or prompt < 0 or completion < 0:
        return None
    details = raw.get("prompt_tokens_details")
    cached = _count(details.get("cached_tokens")) if isinstance(details, dict) else None
    if cached is None:
        cached = _count(raw.get("prompt_cache_hit_tokens"))
    out_details = raw.get("completion_tokens_details")
    reasoning = _count(out_details.get("reasoning_tokens")) if isinstance(out_details, dict) else 0
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        cached_tokens=min(max(cached or 0, 0), prompt),
        reasoning_tokens=max(reasoning or 0, 0),
        raw=json.dumps(raw, separators=(",", ":")),
    )


def estimated_usage(bytes_in: int, content: str | None) -> Usage:
    """No usage in the answer: ~4 bytes per token, flagged as an estimate."""
    return Usage(
        prompt_tokens=max(1, math.ceil(bytes_in / 4)),
        completion_tokens=max(1, math.ceil(len(content or "") / 4)),
        estimated=True,
    )


def price(model: ModelInfo, usage: Usage, batch: bool = False) -> float:
    """USD of one answered attempt: uncached input, cached input and output at their rates."""
    return model.cost(
        usage.prompt_tokens, usage.completion_tokens, batch=batch, cached=usage.cached_tokens
    )


@dataclass
class Spend:
    """Everything paid over the attempts of one call (retries, repair, fallback models)."""

    tokens_in: int = 0
    tokens_cached: int = 0
    tokens_out: int = 0
    tokens_reasoning: int = 0
    cost_usd: float = 0.0
    estimated: bool = False
    attempts: int = 0
    replayed: int = 0
    errors: list[str] = field(default_factory=list)
    usages: list[str] = field(default_factory=list)
    by_model: dict[str, float] = field(default_factory=dict)

    def add(self, model_id: str, usage: Usage | None, cost: float) -> None:
        """Record one paid attempt (`usage` None: unreadable answer charged at worst case)."""
        if usage is None:
            self.estimated = True
        else:
            self.tokens_in += usage.prompt_tokens
            self.tokens_cached += usage.cached_tokens
            self.tokens_out += usage.completion_tokens
            self.tokens_reasoning += usage.reasoning_tokens
            self.estimated |= usage.estimated
            if usage.raw is not None:
                self.usages.append(usage.raw)
        self.cost_usd += cost
        self.by_model[model_id] = self.by_model.get(model_id, 0.0) + cost

    def error_text(self) -> str | None:
        return "; ".join(dict.fromkeys(self.errors))[:500] or None
