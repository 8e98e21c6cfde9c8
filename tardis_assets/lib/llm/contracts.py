"""Public data shapes of the LLM gateway.

These dataclasses are the seam between the gateway and the Dagster wiring: the wiring builds
`SignalRequest`s from bars, calls `run_signals`, and writes `SignalResult`s and `LedgerRow`s to
DuckDB. Keeping them free of behaviour lets both sides evolve independently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

KINDS: tuple[str, ...] = ("sentiment", "pattern", "risk")
# The range of a signal's value per kind (pattern: BUY=1, HOLD=0, SELL=-1), shared by the
# schemas' consumers: the quality checks and the backtest's input validation.
VALUE_RANGES: dict[str, tuple[float, float]] = {
    "sentiment": (-1.0, 1.0),
    "pattern": (-1.0, 1.0),
    "risk": (0.0, 1.0),
}

STATUS_OK = "ok"
STATUS_PARSE_ERROR = "parse_error"
STATUS_PROVIDER_ERROR = "provider_error"
STATUS_BREAKER_OPEN = "breaker_open"
STATUS_BUDGET_EXHAUSTED = "budget_exhausted"
STATUS_LOOKAHEAD_REFUSED = "lookahead_refused"
STATUS_REPLAY_MISS = "replay_miss"

STATUSES: tuple[str, ...] = (
    STATUS_OK,
    STATUS_PARSE_ERROR,
    STATUS_PROVIDER_ERROR,
    STATUS_BREAKER_OPEN,
    STATUS_BUDGET_EXHAUSTED,
    STATUS_LOOKAHEAD_REFUSED,
    STATUS_REPLAY_MISS,
)


@dataclass(frozen=True)
class SignalRequest:
    """One question for one bar window; identical requests produce identical prompts."""

    kind: str
    exchange: str
    symbol: str
    bar_start_us: int
    window_us: int
    features: Mapping[str, float | None]
    headlines: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"SignalRequest.kind must be one of {KINDS}, got {self.kind!r}")
        if self.window_us <= 0:
            raise ValueError(f"SignalRequest.window_us must be > 0, got {self.window_us}")


@dataclass
class SignalResult:
    """The answer to one request; `value` is None whenever `status` is not "ok"."""

    kind: str
    exchange: str
    symbol: str
    bar_start_us: int
    status: str
    value: float | None
    confidence: float | None
    label: str | None
    model: str | None
    model_cutoff: date | None
    available_at_us: int | None
    request_hash: str
    cache_hit: bool
    error: str | None = None


@dataclass
class LedgerRow:
    """One row of `llm_calls`: everything spent (or saved) to answer one request."""

    request_hash: str
    kind: str
    provider: str
    model_requested: str
    model_returned: str | None
    tokens_in: int
    tokens_out: int
    cost_usd: float
    estimated: bool
    latency_ms: float
    attempts: int
    cache_hit: bool
    status: str
    error: str | None
    requested_at_us: int
    day: date


@dataclass
class GatewayConfig:
    """Everything a run needs; secrets arrive already resolved (never read from env here)."""

    provider: str = "offline"
    base_url: str | None = None
    # repr=False: a logged config must never show the key.
    api_key: str | None = field(default=None, repr=False)
    # provider="routing": each model goes to its routing-table provider, with these per-provider
    # keys and (optional) URLs, e.g. {"deepseek": ..., "openai": ...}.
    api_keys: Mapping[str, str] | None = field(default=None, repr=False)
    base_urls: Mapping[str, str] | None = None
    routing_path: Path | None = None
    cache_path: Path = field(default_factory=lambda: Path("data/llm_cache/cache.sqlite"))
    replay_only: bool = False
    allow_in_sample: bool = False
    budget_run_usd: float | None = None
    budget_day_usd: float | None = None
    max_concurrency: int = 64
    request_timeout_s: float = 30.0
    # Kind -> route name in the routing table (e.g. {"sentiment": "fast"}); None = route per kind.
    routes: Mapping[str, str] | None = None
    # Retry policy (openai-python defaults); tests shrink the delays.
    max_attempts: int = 4
    max_elapsed_s: float = 120.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 8.0
    retry_after_cap_s: float = 60.0
    # Circuit breaker: consecutive failures before opening, and the minimum open time.
    breaker_failure_threshold: int = 8
    breaker_cooldown_s: float = 15.0
    # How often on_progress is called at least (seconds).
    progress_interval_s: float = 2.0
    # HTTP transport: "aiohttp" (httpx API over aiohttp, fastest measured) or "httpx".
    transport: str = "aiohttp"
    temperature: float = 0.0
    # One payer per request: a call's questions are claimed in the shared cache before it is
    # sent. The lease is renewed every third of its length while the holder lives; another
    # process waits for the holder's answer (polling every claim_poll_s) and takes a claim
    # over once its lease has expired (a killed holder's lease simply runs out).
    claim_lease_s: float = 30.0
    claim_poll_s: float = 0.25


@dataclass
class GatewayReport:
    """What a run did: results in request order plus the cost accounting."""

    results: list[SignalResult]
    ledger: list[LedgerRow]
    http_requests: int
    cache_hits: int
    cost_usd: float
    not_sent: int


@dataclass(frozen=True)
class Progress:
    """Snapshot passed to the progress callback."""

    done: int
    total: int
    elapsed_s: float
    rate_per_s: float
    cost_usd: float
    cache_hits: int
    http_requests: int
    failed: int

    def line(self) -> str:
        """A one-line human summary, for logs."""
        pct = 100.0 * self.done / self.total if self.total else 100.0
        return (
            f"llm {self.done}/{self.total} ({pct:.0f}%) {self.rate_per_s:.0f} req/s "
            f"cost ${self.cost_usd:.4f} cache_hits {self.cache_hits} http {self.http_requests} "
            f"failed {self.failed}"
        )


@dataclass(frozen=True)
class Question:
    """One question answered and cached on its own (a headline, or one window of one kind).

    `item` is what the model judges; its canonical JSON (without packing ids) is the question's
    cache identity, so the same headline asked for two instruments or two days is one answer.
    Questions with the same `pack` label may be sent together in one call, in order.
    """

    kind: str
    item: Mapping[str, Any]
    bar_start_us: int  # the window the question is asked for: the look-ahead guard's date
    asked_at_us: int  # when a live system could send it (the end of its window)
    day: date  # the partition whose ledger pays for it
    pack: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Question.kind must be one of {KINDS}, got {self.kind!r}")


@dataclass(frozen=True)
class Answer:
    """What one Question got: a validated value, or a failure status with value None."""

    key: str  # cache key of the chain's primary model (the question's request_hash)
    kind: str
    status: str
    value: float | None
    confidence: float | None
    label: str | None
    model: str | None
    model_cutoff: date | None
    latency_ms: float | None
    available_at_us: int | None  # asked_at of the call that answered + its latency
    cache_hit: bool
    waited: bool  # answered by another process that held the claim
    error: str | None
    model_requested: str
    paid_usd: float  # this question's share of its call, when it was paid


@dataclass
class ModelTotals:
    """What one model cost in one run (sent calls only)."""

    calls: int = 0
    attempts: int = 0
    cost_usd: float = 0.0
    tokens_in: int = 0
    tokens_cached: int = 0
    tokens_out: int = 0
    latencies_ms: list[float] = field(default_factory=list)


@dataclass
class AskReport:
    """A run over Questions: answers in question order, and what the run sent and paid."""

    answers: list[Answer]
    calls: int  # calls sent (= journal rows written by this run)
    http_requests: int
    cache_hits: int
    waited: int
    cost_usd: float
    not_sent: int
    by_model: dict[str, ModelTotals]
    breakers: dict[str, str]  # model -> breaker state at the end of the run
    breakers_opened: dict[str, int]
    last_error: str | None  # last provider error of the run (redacted)
    run_id: str
