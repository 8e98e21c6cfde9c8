"""Seeded synthetic market: tardis-format trades and the news that moves them.

The demo must exercise every layer honestly, so the synthetic day has the features that matter to
the pipeline: a 24/7 intraday activity cycle (Asian, European and US sessions), stochastic
volatility, price jumps, aggressor flow that leans with price moves, and news events whose
sentiment pushes the price over the following minutes. That last part is what gives an LLM
sentiment signal something real to find (and the backtest something to lose when it cheats).

Days are independent given the seed, yet prices are continuous across days: each day's path is
pinned to a daily close drawn from a coarse seeded random walk. Rows are in arrival order
(local_timestamp), as in tardis files; exchange timestamps may then be slightly out of order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from tardis_assets.lib.market.seeding import rng_for

US_PER_MINUTE = 60_000_000
MINUTES_PER_DAY = 1440
ANCHOR_DAY = date(2020, 1, 1)
_DAILY_REVERSION = 0.98

_POSITIVE = (
    ("{base} rallies as spot ETF inflows surge to a record", "bullish"),
    ("Major bank approves {base} custody, analysts upbeat", "bullish"),
    ("{base} gains after strong adoption data beats expectations", "bullish"),
    ("Exchange reserves of {base} fall as whales accumulate, bullish breakout", "bullish"),
    ("Regulator approves new {base} futures product, boosting demand", "bullish"),
)
_NEGATIVE = (
    ("{base} plunges after exchange hack drains hot wallets", "bearish"),
    ("Regulator sues major exchange over {base} listings, selloff deepens", "bearish"),
    ("{base} slides as miners dump coins amid fear of a ban", "bearish"),
    ("Liquidations cascade as {base} crashes below support", "bearish"),
    ("Bearish outlook: fund warns of {base} losses and weak demand", "bearish"),
)
_NEUTRAL = (
    "{base} trades sideways ahead of macro data",
    "Developers publish routine {base} client release notes",
    "Conference panel discusses {base} market structure",
)
_SOURCES = ("wire", "desk", "chain-watch", "press")


def day_start_us(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1_000_000)


def base_asset(symbol: str) -> str:
    """BTCUSDT -> BTC, BTC-PERPETUAL -> BTC, XBTUSD -> XBT: what a headline would name."""
    upper = symbol.upper()
    for quote in ("-PERPETUAL", "USDT", "USDC", "-USD", "USD", "PERP"):
        if upper.endswith(quote) and len(upper) > len(quote):
            return upper[: -len(quote)].rstrip("-")
    return upper.split("-")[0]


@dataclass(frozen=True)
class NewsEvent:
    minute: int
    second: float
    direction: int  # +1 bullish, -1 bearish, 0 neutral
    magnitude: float
    headline: str
    source: str


@dataclass(frozen=True)
class SyntheticMarket:
    """Parameters of the synthetic world; every output is a pure function of them and the day."""

    seed: int = 7
    trades_per_day: int = 200_000
    base_price: float = 60_000.0
    daily_vol: float = 0.035
    news_per_day: float = 40.0
    news_impact: float = 0.004  # fraction of price a full-magnitude headline moves over ~15 minutes
    mean_trade_size: float = 0.05

    def __post_init__(self) -> None:
        if self.trades_per_day < MINUTES_PER_DAY:
            raise ValueError(
                f"trades_per_day must be >= {MINUTES_PER_DAY}, got {self.trades_per_day}"
            )
        if self.base_price <= 0 or self.daily_vol <= 0:
            raise ValueError("base_price and daily_vol must be positive")

    # -- news -------------------------------------------------------------------------------
    def news_events(self, day: date, symbol: str) -> list[NewsEvent]:
        rng = rng_for(self.seed, "news", base_asset(symbol), day.isoformat())
        activity = _activity_profile(day)
        count = int(rng.poisson(self.news_per_day))
        minutes = np.sort(rng.choice(MINUTES_PER_DAY, size=count, p=activity / activity.sum()))
        base = base_asset(symbol)
        events = []
        for minute in minutes:
            roll = rng.random()
            if roll < 0.4:
                direction, template = 1, _POSITIVE[rng.integers(len(_POSITIVE))][0]
            elif roll < 0.8:
                direction, template = -1, _NEGATIVE[rng.integers(len(_NEGATIVE))][0]
            else:
                direction, template = 0, _NEUTRAL[rng.integers(len(_NEUTRAL))]
            events.append(
                NewsEvent(
                    minute=int(minute),
                    second=float(rng.uniform(0, 59)),
                    direction=direction,
                    magnitude=float(rng.uniform(0.3, 1.0)),
                    headline=template.format(base=base),
                    source=_SOURCES[rng.integers(len(_SOURCES))],
                )
            )
        return events

    def news(self, day: date, symbols: list[str]) -> pl.DataFrame:
        """Headlines for the day, one row per (event, asset), in the `news` table layout."""
        start = day_start_us(day)
        rows: dict[str, list] = {"published_at": [], "headline": [], "source": [], "symbols": []}
        for base in sorted({base_asset(s) for s in symbols}):
            for event in self.news_events(day, base):
                rows["published_at"].append(
                    start + event.minute * US_PER_MINUTE + int(event.second * 1_000_000)
                )
                rows["headline"].append(event.headline)
                rows["source"].append(event.source)
                rows["symbols"].append([base])
        return news_frame(rows)

    # -- prices -----------------------------------------------------------------------------
    def daily_close(self, day: date) -> float:
        """Close of ``day`` on a seeded mean-reverting walk from ANCHOR_DAY (days join up).

        Mean reversion (AR(1) in log price) keeps years of synthetic history near ``base_price``
        instead of drifting to absurd levels, while day-to-day moves keep ``daily_vol``.
        """
        days = max((day - ANCHOR_DAY).days, 0)
        shocks = rng_for(self.seed, "daily-walk").normal(0.0, self.daily_vol, size=days + 1)
        level = 0.0
        for shock in shocks:
            level = _DAILY_REVERSION * level + shock
        return float(self.base_price * np.exp(level))

    def minute_path(self, symbol: str, day: date) -> tuple[np.ndarray, np.ndarray]:
        """Log-price at each minute boundary (1441 points) and per-minute volatility."""
        rng = rng_for(self.seed, "path", base_asset(symbol), day.isoformat())
        activity = _activity_profile(day)
        # Stochastic volatility: a slow lognormal factor times the session activity.
        slow = np.exp(np.cumsum(rng.normal(0, 0.02, MINUTES_PER_DAY)) * 0.5)
        sigma = (
            self.daily_vol / np.sqrt(MINUTES_PER_DAY) * np.sqrt(activity / activity.mean()) * slow
        )
        steps = rng.normal(0, 1, MINUTES_PER_DAY) * sigma
        jumps = rng.random(MINUTES_PER_DAY) < 3 / MINUTES_PER_DAY
        steps += jumps * rng.normal(0, 8, MINUTES_PER_DAY) * sigma
        kernel = np.exp(-np.arange(15) / 5.0)
        kernel /= kernel.sum()
        for event in self.news_events(day, symbol):
            if event.direction:
                span = slice(event.minute + 1, min(event.minute + 1 + kernel.size, MINUTES_PER_DAY))
                push = event.direction * event.magnitude * self.news_impact
                steps[span] += push * kernel[: span.stop - span.start]
        path = np.concatenate([[0.0], np.cumsum(steps)])
        start = np.log(self.daily_close(day - timedelta(days=1)))
        end = np.log(self.daily_close(day))
        # Brownian-bridge pin: keep the intraday shape, land on the day's close.
        path += start + (end - start - path[-1]) * np.linspace(0, 1, MINUTES_PER_DAY + 1)
        return path, sigma

    def trades(self, exchange: str, symbol: str, day: date) -> pl.DataFrame:
        """A tardis `trades` day (exchange, symbol, timestamp, local_timestamp, id, side, price,
        amount)."""
        rng = rng_for(self.seed, "trades", exchange, symbol, day.isoformat())
        path, sigma = self.minute_path(symbol, day)
        activity = _activity_profile(day)
        counts = rng.poisson(self.trades_per_day * activity / activity.sum())
        counts[counts == 0] = 1  # liquid perpetuals trade every minute
        minute = np.repeat(np.arange(MINUTES_PER_DAY), counts)
        n = minute.size
        # Trade times: sorted uniform offsets within each minute, kept 1 s clear of midnight so that
        # local_timestamp (exchange time + feed latency) stays in the UTC day, as in tardis files.
        offset = _sort_within_groups(minute, rng.random(n))
        offset_us = (offset * (US_PER_MINUTE - 1)).astype(np.int64)
        last = minute == MINUTES_PER_DAY - 1
        offset_us[last] = (offset[last] * (US_PER_MINUTE - 1_000_000)).astype(np.int64)
        timestamp = day_start_us(day) + minute.astype(np.int64) * US_PER_MINUTE + offset_us
        latency = (rng.lognormal(np.log(3_000), 0.5, n)).astype(np.int64).clip(200, 400_000)
        # Price: bridge between minute anchors plus bid/ask bounce that follows the aggressor side.
        frac = offset
        mid_log = path[minute] + (path[minute + 1] - path[minute]) * frac
        mid_log += rng.normal(0, 1, n) * sigma[minute] * 0.15
        drift = np.diff(path)[minute]
        buy_prob = 0.5 + 0.35 * np.tanh(drift / (sigma[minute] + 1e-12))
        is_buy = rng.random(n) < buy_prob
        tick = 0.1
        price = np.round(np.exp(mid_log) / tick) * tick + np.where(is_buy, tick / 2, -tick / 2)
        price = np.round(price, 2)
        amount = np.round(rng.lognormal(np.log(self.mean_trade_size), 1.1, n), 3).clip(0.001, None)
        first_id = int(rng.integers(1_000_000_000, 2_000_000_000))
        return pl.DataFrame(
            {
                "exchange": pl.Series([exchange] * n, dtype=pl.String),
                "symbol": pl.Series([symbol] * n, dtype=pl.String),
                "timestamp": timestamp,
                "local_timestamp": timestamp + latency,
                "id": np.arange(first_id, first_id + n).astype(str),
                "side": np.where(is_buy, "buy", "sell"),
                "price": price,
                "amount": amount,
            }
        ).sort("local_timestamp", maintain_order=True)

    def quotes(self, exchange: str, symbol: str, day: date, per_minute: int = 30) -> pl.DataFrame:
        """A tardis `quotes` day (top of book) on the same price path as ``trades``.

        The spread widens with the minute's volatility, as market makers do, so spread features
        carry information and spread costs in the backtest are not a constant.
        """
        rng = rng_for(self.seed, "quotes", exchange, symbol, day.isoformat())
        path, sigma = self.minute_path(symbol, day)
        n = MINUTES_PER_DAY * per_minute
        minute = np.repeat(np.arange(MINUTES_PER_DAY), per_minute)
        offset = _sort_within_groups(minute, rng.random(n))
        offset_us = (offset * (US_PER_MINUTE - 1_000_000)).astype(np.int64)
        timestamp = day_start_us(day) + minute.astype(np.int64) * US_PER_MINUTE + offset_us
        latency = (rng.lognormal(np.log(3_000), 0.5, n)).astype(np.int64).clip(200, 400_000)
        mid = np.exp(path[minute] + (path[minute + 1] - path[minute]) * offset)
        tick = 0.1
        half = tick * (0.5 + np.round(rng.exponential(1.0, n) * sigma[minute] / sigma.mean()))
        bid = np.round((mid - half) / tick) * tick
        ask = np.maximum(np.round((mid + half) / tick) * tick, bid + tick)
        return pl.DataFrame(
            {
                "exchange": pl.Series([exchange] * n, dtype=pl.String),
                "symbol": pl.Series([symbol] * n, dtype=pl.String),
                "timestamp": timestamp,
                "local_timestamp": timestamp + latency,
                "ask_amount": _sizes(rng, n),
                "ask_price": np.round(ask, 2),
                "bid_price": np.round(bid, 2),
                "bid_amount": _sizes(rng, n),
            }
        ).sort("local_timestamp", maintain_order=True)


def news_frame(rows: dict[str, list]) -> pl.DataFrame:
    """The `news` table layout: published_at (µs UTC), headline, source, symbols (list)."""
    return pl.DataFrame(
        rows,
        schema={
            "published_at": pl.Int64,
            "headline": pl.String,
            "source": pl.String,
            "symbols": pl.List(pl.String),
        },
    ).with_columns(pl.col("published_at").cast(pl.Datetime("us", "UTC")))


def _sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.round(rng.lognormal(np.log(2.0), 0.8, n), 3).clip(0.001, None)


def _sort_within_groups(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sort ``values`` within runs of equal (already sorted) ``groups``."""
    order = np.lexsort((values, groups))
    return values[order]


def _activity_profile(day: date) -> np.ndarray:
    """Relative trading activity per minute of a UTC day (sums to anything; shape matters)."""
    hours = np.arange(MINUTES_PER_DAY) / 60.0

    def bump(center: float, width: float) -> np.ndarray:
        return np.exp(-0.5 * ((hours - center) / width) ** 2)

    profile = 0.5 + 0.6 * bump(1.5, 1.5) + 0.8 * bump(8.0, 1.2) + 1.4 * bump(14.5, 1.8)
    profile += 0.6 * bump(20.0, 1.5)
    if day.weekday() >= 5:
        profile *= 0.6
    return profile
