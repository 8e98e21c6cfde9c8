"""Fault injection of the offline stand-in: what can go wrong with a provider, on purpose.

Pure data and a seeded draw, so tests and the benchmark can ask for "30% mixed faults, seed 11"
and get the same faults every time, over real sockets.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

FAULT_KINDS = ("429", "500", "timeout", "malformed", "truncated", "missing_usage", "bad_value")
# Faults after which the stand-in has computed the prompt (it bills them; it remembers prefixes).
COMPUTED = frozenset({None, "timeout", "malformed", "truncated", "missing_usage", "bad_value"})


@dataclass(frozen=True)
class Faults:
    """Per-attempt fault probabilities (drawn independently per chat request, seeded)."""

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_timeout: float = 0.0
    rate_malformed: float = 0.0
    rate_truncated: float = 0.0
    rate_missing_usage: float = 0.0
    # Valid JSON that breaks the schema (out-of-range score, unknown signal): what an obedient
    # model would answer to a prompt injection.
    rate_bad_value: float = 0.0
    # A packed answer (two or more items) with one item broken: a careless model that garbles
    # one entry of a list. Drawn apart from the kinds above.
    rate_bad_item: float = 0.0
    # 429 answers carry this delay, in the header style given: "seconds", "ms" or "date".
    retry_after_s: float = 0.2
    retry_after_style: str = "seconds"
    # A "timeout" fault hangs this long before answering (set above the client timeout).
    hang_s: float = 30.0
    # Models that always answer 503 (to open the breaker); optional Retry-After on those.
    down_models: tuple[str, ...] = ()
    down_retry_after_s: float | None = None
    # A careless relay that echoes the Authorization header in its error messages (tests that
    # the client redacts what it stores and logs).
    echo_auth_in_errors: bool = False
    seed: int = 0

    @classmethod
    def mixed(cls, total_rate: float, **kwargs: Any) -> Faults:
        """Spread `total_rate` evenly over every fault kind."""
        each = total_rate / len(FAULT_KINDS)
        rates = {f"rate_{k}": each for k in FAULT_KINDS}
        rates.update(kwargs)
        return cls(**rates)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Faults:
        data = json.loads(text)
        data["down_models"] = tuple(data.get("down_models") or ())
        return cls(**data)

    def draw(self, rng: random.Random, model: str) -> str | None:
        """The fault for one request (None: answer normally)."""
        if model in self.down_models:
            return "down"
        roll = rng.random()
        for kind in FAULT_KINDS:
            roll -= getattr(self, f"rate_{kind}")
            if roll < 0:
                return kind
        return None


def retry_after_headers(seconds: float, style: str) -> dict[str, str]:
    if style == "ms":
        return {"retry-after-ms": str(round(seconds * 1000))}
    if style == "date":
        when = datetime.now(UTC) + timedelta(seconds=seconds)
        return {"retry-after": format_datetime(when, usegmt=True)}
    return {"retry-after": f"{seconds:g}"}
