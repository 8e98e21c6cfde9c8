"""Synthetic headlines: when they are published, which way they point, how hard they push.

A headline is drawn per asset and day (not per exchange): every venue of BTC reads the same news,
and ``price_path`` turns each directional headline into a push on that asset's price. That push is
what gives the LLM sentiment signal a real edge, and the look-ahead rules something to protect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from tardis_assets.lib.days import US_PER_SECOND, day_start_us
from tardis_assets.lib.market.seeding import rng_for
from tardis_assets.lib.market.synthetic.world import (
    MINUTES_PER_DAY,
    US_PER_MINUTE,
    activity_profile,
    base_asset,
)

POSITIVE_TEMPLATES = (
    "{base} rallies as spot ETF inflows surge to a record",
    "Major bank approves {base} custody, analysts upbeat",
    "{base} gains after strong adoption data beats expectations",
    "Exchange reserves of {base} fall as whales accumulate, bullish breakout",
    "Regulator approves new {base} futures product, boosting demand",
)
NEGATIVE_TEMPLATES = (
    "{base} plunges after exchange hack drains hot wallets",
    "Regulator sues major exchange over {base} listings, selloff deepens",
    "{base} slides as miners dump coins amid fear of a ban",
    "Liquidations cascade as {base} crashes below support",
    "Bearish outlook: fund warns of {base} losses and weak demand",
)
NEUTRAL_TEMPLATES = (
    "{base} trades sideways ahead of macro data",
    "Developers publish routine {base} client release notes",
    "Conference panel discusses {base} market structure",
)
SOURCES = ("wire", "desk", "chain-watch", "press")


@dataclass(frozen=True)
class NewsEvent:
    minute: int
    second: float
    direction: int  # +1 bullish, -1 bearish, 0 neutral
    magnitude: float
    headline: str
    source: str

    def published_us(self, day: date) -> int:
        """Publication time in µs since the epoch, as the `news` table stores it."""
        return day_start_us(day) + self.minute * US_PER_MINUTE + int(self.second * US_PER_SECOND)


def draw_news(seed: int, day: date, symbol: str, news_per_day: float) -> list[NewsEvent]:
    """The day's headlines about ``symbol``'s base asset, in publication order.

    Headlines cluster in busy sessions (drawn with the activity profile): 40% bullish, 40%
    bearish, 20% neutral, magnitude uniform in [0.3, 1].
    """
    base = base_asset(symbol)
    rng = rng_for(seed, "news", base, day.isoformat())
    activity = activity_profile(day)
    count = int(rng.poisson(news_per_day))
    minutes = np.sort(rng.choice(MINUTES_PER_DAY, size=count, p=activity / activity.sum()))
    events = []
    for minute in minutes:
        roll = rng.random()
        if roll < 0.4:
            direction = 1
            template = POSITIVE_TEMPLATES[rng.integers(len(POSITIVE_TEMPLATES))]
        elif roll < 0.8:
            direction = -1
            template = NEGATIVE_TEMPLATES[rng.integers(len(NEGATIVE_TEMPLATES))]
        else:
            direction, template = 0, NEUTRAL_TEMPLATES[rng.integers(len(NEUTRAL_TEMPLATES))]
        events.append(
            NewsEvent(
                minute=int(minute),
                second=float(rng.uniform(0, 59)),
                direction=direction,
                magnitude=float(rng.uniform(0.3, 1.0)),
                headline=template.format(base=base),
                source=SOURCES[rng.integers(len(SOURCES))],
            )
        )
    return events


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


def news_table(seed: int, day: date, symbols: list[str], news_per_day: float) -> pl.DataFrame:
    """Headlines for the day, one row per (event, asset), in the `news` table layout."""
    rows: dict[str, list] = {"published_at": [], "headline": [], "source": [], "symbols": []}
    for base in sorted({base_asset(s) for s in symbols}):
        for event in draw_news(seed, day, base, news_per_day):
            rows["published_at"].append(event.published_us(day))
            rows["headline"].append(event.headline)
            rows["source"].append(event.source)
            rows["symbols"].append([base])
    return news_frame(rows)
