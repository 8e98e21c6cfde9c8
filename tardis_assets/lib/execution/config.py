"""Settings of a tick-level run that are not strategy parameters: latencies, queue model, costs.

The strategy's own parameters stay `LLMStrategyParams` (shared with the bar engine, so one set of
numbers can be run by both engines). Its ``fee_bps`` and ``slippage_bps`` are bar-engine costs and
are not used here: fees come from the fee table and slippage from the book.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

STYLES = ("market", "passive")
QUEUE_MODELS = ("risk_averse", "power", "log")
DEPTH_SOURCES = ("auto", "incremental_book_L2", "book_snapshot_25", "book_snapshot_5", "quotes")
US_PER_MS = 1_000
# The latency study's default grid (``latency_study.py``): model latencies (None = each signal's
# measured one) and order latencies, in ms.
MODEL_LATENCIES_MS: tuple[float | None, ...] = (None, 47.0, 850.0, 2_300.0, 10_000.0)
ORDER_LATENCIES_MS: tuple[float, ...] = (1.0, 10.0, 100.0)


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _integer(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return value


@dataclass(frozen=True)
class ExecutionConfig:
    """How orders meet the replayed market.

    Latencies (milliseconds): ``entry_latency_ms`` from the strategy's decision to the matching
    engine, ``response_latency_ms`` from the matching engine back to the strategy (fills and
    acknowledgements). ``model_latency_ms`` replaces each signal's measured LLM latency
    (``available_at`` becomes window end + this value); None keeps ``available_at`` as stored.
    Feed latency is not a setting: it is each event's ``local_timestamp - timestamp``.
    """

    style: str = "market"
    entry_latency_ms: float = 10.0
    response_latency_ms: float = 10.0
    model_latency_ms: float | None = None
    queue_model: str = "risk_averse"
    queue_power: float = 2.0
    capital: float = 100_000.0
    bar_seconds: int = 60
    window_seconds: int = 60
    equity_seconds: int | None = None
    check_interval_ms: float = 1_000.0
    passive_timeout_s: float = 30.0
    consume_liquidity: bool = True
    fuse_quotes: bool = True
    depth: str = "auto"
    max_walk_levels: int = 0
    tick_size: float | None = None
    lot_size: float | None = None
    fees_path: str | None = None
    maker_fee_bps: float | None = None
    taker_fee_bps: float | None = None

    def __post_init__(self) -> None:
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}, got {self.style!r}")
        if self.queue_model not in QUEUE_MODELS:
            raise ValueError(f"queue_model must be one of {QUEUE_MODELS}, got {self.queue_model!r}")
        if self.depth not in DEPTH_SOURCES:
            raise ValueError(f"depth must be one of {DEPTH_SOURCES}, got {self.depth!r}")
        for name in ("entry_latency_ms", "response_latency_ms"):
            if _number(name, getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if (
            self.model_latency_ms is not None
            and _number("model_latency_ms", self.model_latency_ms) < 0
        ):
            raise ValueError(f"model_latency_ms must be >= 0, got {self.model_latency_ms}")
        if _number("queue_power", self.queue_power) <= 0:
            raise ValueError(f"queue_power must be > 0, got {self.queue_power}")
        if _number("capital", self.capital) <= 0:
            raise ValueError(f"capital must be > 0, got {self.capital}")
        for name in ("bar_seconds", "window_seconds"):
            if _integer(name, getattr(self, name)) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.equity_seconds is not None and _integer("equity_seconds", self.equity_seconds) <= 0:
            raise ValueError(f"equity_seconds must be > 0, got {self.equity_seconds}")
        if _number("check_interval_ms", self.check_interval_ms) <= 0:
            raise ValueError(f"check_interval_ms must be > 0, got {self.check_interval_ms}")
        if _number("passive_timeout_s", self.passive_timeout_s) < 0:
            raise ValueError(
                f"passive_timeout_s must be >= 0 (0 = never cross), got {self.passive_timeout_s}"
            )
        if _integer("max_walk_levels", self.max_walk_levels) < 0:
            raise ValueError(f"max_walk_levels must be >= 0 (0 = all), got {self.max_walk_levels}")
        for name in ("tick_size", "lot_size"):
            value = getattr(self, name)
            if value is not None and _number(name, value) <= 0:
                raise ValueError(f"{name} must be > 0 when given, got {value}")
        for name in ("maker_fee_bps", "taker_fee_bps"):
            value = getattr(self, name)
            if value is not None:
                _number(name, value)
        for name in ("consume_liquidity", "fuse_quotes"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")

    @property
    def entry_latency_us(self) -> int:
        return round(self.entry_latency_ms * US_PER_MS)

    @property
    def response_latency_us(self) -> int:
        return round(self.response_latency_ms * US_PER_MS)

    @property
    def equity_interval_us(self) -> int:
        return (self.equity_seconds or self.bar_seconds) * 1_000_000
