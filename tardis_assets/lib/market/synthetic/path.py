"""The price of an asset through a day: minute anchors, then the continuous fair price between them.

Two resolutions, one path. ``minute_path`` gives the log price at the 1,441 minute boundaries:
stochastic volatility times the session activity, rare jumps, and the push of each directional
headline, pinned (Brownian bridge) between the previous day's close and this day's, so days join
up. ``fair_path`` fills in the minutes for the order book, which needs a price at any microsecond:
a Brownian bridge between anchors (knots every 10 s), each jump at its own instant inside its
minute, and the fast part of a headline's push starting at the publication microsecond. At every
anchor the fair price equals ``minute_path`` exactly (to float rounding).

Headlines move the price in two parts. The slow part (``news_impact``) is spread over the 15
minutes after the publication minute with a decaying kernel; it is what a signal computed on the
headline's bar can still trade. On top of it, a fast part (``news_fast_share`` times the slow
push, time constant ``news_fast_seconds``) starts at the publication instant: traders who react in
milliseconds take it, so a backtest that trades before the news was known earns more than any
honest one, and every second of latency after publication costs some of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from tardis_assets.lib.days import US_PER_SECOND, day_start_us
from tardis_assets.lib.market.seeding import rng_for
from tardis_assets.lib.market.synthetic.news import NewsEvent, draw_news
from tardis_assets.lib.market.synthetic.world import (
    ANCHOR_DAY,
    MINUTES_PER_DAY,
    US_PER_MINUTE,
    activity_profile,
    base_asset,
)

DAILY_REVERSION = 0.98
KNOTS_PER_MINUTE = 6  # Brownian-bridge knots every 10 s between the minute anchors
NEWS_KERNEL_MINUTES = 15
FAST_SETTLED_TAUS = 30.0  # after 30 time constants the fast push counts as fully realized


@dataclass(frozen=True)
class FairPath:
    """Everything needed to evaluate the fair log price at any µs of one asset's day.

    log F(t) = lerp(knots) + jump_level[m] + jump[m]·[u >= jump_at[m]] + fast(t), with m the
    minute of t and u its fraction; fast(t) = fast_cum[lo] + sum over lo <= e < hi of
    fast_push[e]·(1 - exp(-(t - fast_t[e]) / fast_tau_us)).
    """

    start_us: int
    knots: np.ndarray  # float64 (MINUTES_PER_DAY * KNOTS_PER_MINUTE + 1,), smooth part
    jump_level: np.ndarray  # float64 (MINUTES_PER_DAY,), jumps before the minute
    jump: np.ndarray  # float64 (MINUTES_PER_DAY,), this minute's jump (0 mostly)
    jump_at: np.ndarray  # float64 (MINUTES_PER_DAY,), fraction of the minute it happens at
    fast_t: np.ndarray  # int64 µs, publication times of directional headlines
    fast_push: np.ndarray  # float64 log push of their fast part
    fast_cum: np.ndarray  # float64 (len + 1,), prefix sums of fast_push
    fast_tau_us: float


@dataclass(frozen=True)
class PriceModel:
    """The parameters that decide an asset's price; one model serves every exchange of it."""

    seed: int
    base_price: float
    daily_vol: float
    news_per_day: float
    news_impact: float
    news_fast_share: float
    news_fast_seconds: float

    def news_events(self, day: date, symbol: str) -> list[NewsEvent]:
        return draw_news(self.seed, day, symbol, self.news_per_day)

    def daily_close(self, day: date) -> float:
        """Close of ``day`` on a seeded mean-reverting walk from ANCHOR_DAY (days join up).

        Mean reversion (AR(1) in log price) keeps years of synthetic history near ``base_price``
        instead of drifting to absurd levels, while day-to-day moves keep ``daily_vol``.
        """
        days = max((day - ANCHOR_DAY).days, 0)
        shocks = rng_for(self.seed, "daily-walk").normal(0.0, self.daily_vol, size=days + 1)
        level = 0.0
        for shock in shocks:
            level = DAILY_REVERSION * level + shock
        return float(self.base_price * np.exp(level))

    def minute_path(self, symbol: str, day: date) -> tuple[np.ndarray, np.ndarray]:
        """Log-price at each minute boundary (1441 points) and per-minute volatility."""
        path, sigma, _, _ = self._components(symbol, day)
        return path, sigma

    def fair_path(self, symbol: str, day: date) -> FairPath:
        """The continuous fair price of ``symbol``'s asset on ``day`` (see FairPath)."""
        path, sigma, jumps, fast = self._components(symbol, day)
        fast_t, fast_push = fast
        start = day_start_us(day)
        anchors_us = start + np.arange(MINUTES_PER_DAY + 1, dtype=np.int64) * US_PER_MINUTE
        jump_level = np.concatenate([[0.0], np.cumsum(jumps)])
        smooth = path - jump_level - self._fast_at(anchors_us, fast_t, fast_push)
        rng = rng_for(self.seed, "bridge", base_asset(symbol), day.isoformat())
        k = KNOTS_PER_MINUTE
        frac = np.arange(k + 1) / k
        knots = smooth[:-1, None] + np.diff(smooth)[:, None] * frac[None, :]
        # Brownian bridge from 0 to 0 across each minute, variance sigma^2 u (1 - u).
        bridge = np.zeros((MINUTES_PER_DAY, k + 1))
        z = rng.normal(0.0, 1.0, (MINUTES_PER_DAY, k - 1))
        for j in range(1, k):
            remaining = 1.0 - (j - 1) / k
            h = 1.0 / k
            mean = bridge[:, j - 1] * (remaining - h) / remaining
            bridge[:, j] = mean + sigma * np.sqrt(h * (remaining - h) / remaining) * z[:, j - 1]
        knots = (knots + bridge)[:, :k].reshape(-1)
        knots = np.concatenate([knots, smooth[-1:]])
        jump_at = 0.02 + 0.96 * rng.random(MINUTES_PER_DAY)  # strictly inside the minute
        return FairPath(
            start_us=start,
            knots=np.ascontiguousarray(knots),
            jump_level=jump_level[:-1].copy(),
            jump=jumps,
            jump_at=jump_at,
            fast_t=fast_t,
            fast_push=fast_push,
            fast_cum=np.concatenate([[0.0], np.cumsum(fast_push)]),
            fast_tau_us=self.news_fast_seconds * US_PER_SECOND,
        )

    def _fast_at(self, t_us: np.ndarray, fast_t: np.ndarray, push: np.ndarray) -> np.ndarray:
        """Realized fast news push at times ``t_us`` (vectorized twin of the book kernel's)."""
        if fast_t.size == 0:
            return np.zeros(t_us.shape)
        age = (t_us[:, None] - fast_t[None, :]).astype(np.float64)
        tau = self.news_fast_seconds * US_PER_SECOND
        done = np.where(age > 0, 1.0 - np.exp(-np.maximum(age, 0.0) / tau), 0.0)
        return (done * push[None, :]).sum(axis=1)

    def _components(
        self, symbol: str, day: date
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        rng = rng_for(self.seed, "path", base_asset(symbol), day.isoformat())
        activity = activity_profile(day)
        # Stochastic volatility: a slow lognormal factor times the session activity.
        slow = np.exp(np.cumsum(rng.normal(0, 0.02, MINUTES_PER_DAY)) * 0.5)
        sigma = (
            self.daily_vol / np.sqrt(MINUTES_PER_DAY) * np.sqrt(activity / activity.mean()) * slow
        )
        steps = rng.normal(0, 1, MINUTES_PER_DAY) * sigma
        is_jump = rng.random(MINUTES_PER_DAY) < 3 / MINUTES_PER_DAY
        jumps = is_jump * rng.normal(0, 8, MINUTES_PER_DAY) * sigma
        steps += jumps
        kernel = np.exp(-np.arange(NEWS_KERNEL_MINUTES) / 5.0)
        kernel /= kernel.sum()
        fast_t: list[int] = []
        fast_push: list[float] = []
        for event in self.news_events(day, symbol):
            if event.direction:
                first = event.minute + 1
                span = slice(first, min(first + kernel.size, MINUTES_PER_DAY))
                push = event.direction * event.magnitude * self.news_impact
                steps[span] += push * kernel[: span.stop - span.start]
                fast_t.append(event.published_us(day))
                fast_push.append(push * self.news_fast_share)
        fast = (np.array(fast_t, dtype=np.int64), np.array(fast_push, dtype=np.float64))
        anchors_us = day_start_us(day) + np.arange(MINUTES_PER_DAY + 1) * US_PER_MINUTE
        steps += np.diff(self._fast_at(anchors_us, *fast))
        path = np.concatenate([[0.0], np.cumsum(steps)])
        start = np.log(self.daily_close(day - timedelta(days=1)))
        end = np.log(self.daily_close(day))
        # Brownian-bridge pin: keep the intraday shape, land on the day's close.
        path += start + (end - start - path[-1]) * np.linspace(0, 1, MINUTES_PER_DAY + 1)
        return path, sigma, jumps, fast
