"""Per-model client-side rate limits: concurrency, requests/s and tokens/min.

Acquired before each send so the gateway never provokes 429s it could have avoided. Token
buckets refill continuously; the tokens/min bucket is charged with the worst-case token count
and refunded the difference once the real usage is known.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager


class TokenBucket:
    """Continuous-refill bucket; `take` waits until enough tokens exist.

    ``clock`` and ``sleep`` are the time source and the wait (default: the monotonic clock and
    asyncio's sleep); a test passes a simulated pair to check the rate exactly, without
    depending on how busy the machine is.
    """

    def __init__(
        self,
        rate_per_s: float,
        capacity: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate_per_s
        self.capacity = capacity
        self.tokens = capacity
        self._clock = clock
        self._sleep = sleep
        self.updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    async def take(self, amount: float) -> None:
        amount = min(amount, self.capacity)
        while True:
            self._refill()
            if self.tokens >= amount:
                self.tokens -= amount
                return
            await self._sleep((amount - self.tokens) / self.rate)

    def refund(self, amount: float) -> None:
        self._refill()
        self.tokens = min(self.capacity, self.tokens + max(0.0, amount))


class ModelLimiter:
    """All limits of one model; `slot(tokens)` holds a concurrency slot around one send."""

    def __init__(self, max_concurrency: int, rps: float, tpm: float) -> None:
        self._sem = asyncio.Semaphore(max_concurrency)
        self._requests = TokenBucket(rps, max(1.0, rps))
        self._tokens = TokenBucket(tpm / 60.0, tpm)

    @asynccontextmanager
    async def slot(self, tokens: int) -> AsyncIterator[None]:
        async with self._sem:
            await self._requests.take(1)
            await self._tokens.take(tokens)
            yield

    def refund_tokens(self, amount: int) -> None:
        self._tokens.refund(amount)
