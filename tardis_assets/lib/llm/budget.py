"""USD budget per run and per day, enforced by reserving the worst case before each send.

Why reserve: with 64 requests in flight, checking "spent < cap" before sending lets 64 calls
overshoot. Reserving each call's worst-case cost (input bytes as an upper bound of input tokens,
max_tokens for output) makes the cap a hard bound: spent + reserved never exceeds it. A call
that would fit once in-flight reservations settle waits for them instead of being dropped, so
the cap is used up to the last call that fits. Day spend
is persisted in the cache DB so it accumulates across runs; it is re-read on each reservation,
so sequential runs (and, approximately, concurrent processes) share the daily cap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date


class Budget:
    def __init__(
        self,
        run_cap_usd: float | None,
        day_cap_usd: float | None,
        day_spent: Callable[[date], float],
        today: Callable[[], date],
    ) -> None:
        self.run_cap = run_cap_usd
        self.day_cap = day_cap_usd
        self._day_spent = day_spent
        self._today = today
        self.spent = 0.0
        self.reserved = 0.0
        # Settled spend not yet written to the persisted day total (written at the end of a job,
        # in the same transaction as the cached answer).
        self.unpersisted = 0.0
        self._changed = asyncio.Event()

    def try_reserve(self, usd: float) -> bool | None:
        """True: reserved. None: fits once in-flight reservations settle. False: never fits."""
        run_room = None if self.run_cap is None else self.run_cap + 1e-12 - self.spent - usd
        day_room = None
        if self.day_cap is not None:
            day_room = (
                self.day_cap + 1e-12 - self._day_spent(self._today()) - self.unpersisted - usd
            )
        rooms = [r for r in (run_room, day_room) if r is not None]
        if any(r < 0 for r in rooms):
            return False
        if any(r < self.reserved for r in rooms):
            return None
        self.reserved += usd
        return True

    async def reserve(self, usd: float) -> bool:
        """Reserve `usd`, waiting for in-flight calls to settle if that could make room.

        False means the call can never fit under a cap: do not send it.
        """
        while True:
            verdict = self.try_reserve(usd)
            if verdict is not None:
                return verdict
            self._changed.clear()
            await self._changed.wait()

    def release(self, usd: float) -> None:
        """Give back a reservation whose request cost nothing (error status, not sent)."""
        self.reserved = max(0.0, self.reserved - usd)
        self._changed.set()

    def settle(self, reserved_usd: float, actual_usd: float) -> None:
        """Replace a reservation by the real cost (never more than reserved when usage is sane)."""
        self.release(reserved_usd)
        self.spent += actual_usd
        self.unpersisted += actual_usd

    def persisted(self, usd: float) -> None:
        """`usd` of settled spend is now in the persisted day total."""
        self.unpersisted = max(0.0, self.unpersisted - usd)
