"""Circuit breaker per (provider, model): closed -> open -> half-open with a single probe.

Why: when a model is down, retrying every request against it burns the elapsed-time budget of
the whole run; an open breaker fails fast without sending and lets the gateway move to the next
model of the fallback chain. It stays open at least as long as a Retry-After the server gave.
"""

from __future__ import annotations

import time
from collections.abc import Callable

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


class CircuitBreaker:
    """Single event-loop object (no locks needed: state changes happen between awaits)."""

    def __init__(
        self,
        failure_threshold: int = 8,
        cooldown_s: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self.state = CLOSED
        self.failures = 0
        self.open_until = 0.0
        self.probe_in_flight = False
        self.times_opened = 0

    def allow(self) -> bool:
        """May a request be sent now? In half-open, only one probe at a time."""
        if self.state == CLOSED:
            return True
        if self.state == OPEN:
            if self._clock() < self.open_until:
                return False
            self.state = HALF_OPEN
            self.probe_in_flight = False
        if self.probe_in_flight:
            return False
        self.probe_in_flight = True
        return True

    def is_open(self) -> bool:
        """True when a request would be refused right now (without taking the probe)."""
        if self.state == CLOSED:
            return False
        if self.state == OPEN:
            return self._clock() < self.open_until
        return self.probe_in_flight

    def record_success(self) -> None:
        self.state = CLOSED
        self.failures = 0
        self.probe_in_flight = False

    def record_failure(self, open_for_s: float | None = None) -> None:
        """Count a failure; open after the threshold, or at once for a long Retry-After."""
        self.failures += 1
        if self.state == HALF_OPEN or self.failures >= self.failure_threshold or open_for_s:
            self._open(max(self.cooldown_s, open_for_s or 0.0))

    def release(self) -> None:
        """The allowed request ended without a verdict (cancelled, budget): free the probe."""
        self.probe_in_flight = False

    def _open(self, seconds: float) -> None:
        if self.state != OPEN:
            self.times_opened += 1
        self.state = OPEN
        self.open_until = max(self.open_until, self._clock() + seconds)
        self.probe_in_flight = False
