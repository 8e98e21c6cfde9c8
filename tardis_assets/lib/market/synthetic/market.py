"""``SyntheticMarket``: the parameters of the synthetic world and the tardis data it produces.

Every output is a pure function of the parameters, the instrument and the day. Prices and news
belong to the asset (``path``, ``news``); each (exchange, symbol) has its own order book around
that price (``simulate``), from which all five tardis types are cut, so they agree with each
other row for row.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from tardis_assets.lib.market.synthetic.frames import OUTPUT_TYPES
from tardis_assets.lib.market.synthetic.news import NewsEvent, news_table
from tardis_assets.lib.market.synthetic.path import KNOTS_PER_MINUTE, PriceModel
from tardis_assets.lib.market.synthetic.plan import BookParams, DayPlan, build_plan
from tardis_assets.lib.market.synthetic.stream import DEFAULT_MAX_ROWS, stream_plan
from tardis_assets.lib.market.synthetic.units import Units
from tardis_assets.lib.market.synthetic.world import MINUTES_PER_DAY

SYNTHETIC_TYPES: tuple[str, ...] = OUTPUT_TYPES

# Rows per message and per tick of price travel, measured on default parameters; the events
# budget of with_events_per_day is split with them (bench/synthetic_day.py prints real counts).
L2_ROWS_PER_MESSAGE = 1.0
QUOTES_PER_TRADE = 1.0
QUOTES_PER_UPDATE = 0.19
L2_ROWS_PER_TICK_TRAVELLED = 2.8  # at level_gap 1.5: cancel, re-quote, refill and trim levels


@dataclass(frozen=True)
class SyntheticMarket:
    """Parameters of the synthetic world; every output is a pure function of them and the day.

    Price: ``base_price``, ``daily_vol``; headlines: ``news_per_day`` with a slow push of
    ``news_impact`` (fraction of price, over ~15 minutes) plus a fast part of
    ``news_fast_share`` of it with time constant ``news_fast_seconds`` from publication.
    Book (per instrument): ``trades_per_day`` aggressor trades and ``book_updates_per_day`` maker
    updates; prices on a ``tick_size`` grid, sizes in ``lot_size`` lots; ``level_size`` is the
    median size at the touch, ``level_gap`` the mean ticks between levels, each side holds
    ``depth_min``..``depth_max`` levels; ``refill_prob`` is the chance per message that makers
    re-quote a touch left behind. Feeds: median latency ``feed_latency_us`` (lognormal);
    ``book_snapshot_25`` at most every ``snapshot_interval_ms``; ``derivative_ticker`` every
    ``ticker_interval_ms``.
    """

    seed: int = 7
    trades_per_day: int = 200_000
    base_price: float = 60_000.0
    daily_vol: float = 0.035
    news_per_day: float = 40.0
    news_impact: float = 0.004  # fraction of price a full-magnitude headline moves over ~15 minutes
    mean_trade_size: float = 0.05  # median trade size (base units)
    news_fast_share: float = 0.25
    news_fast_seconds: float = 20.0
    book_updates_per_day: int = 400_000
    tick_size: float = 0.1
    lot_size: float = 0.001
    level_size: float = 2.0
    level_gap: float = 1.5
    spread_ticks: float = 2.4
    depth_min: int = 30
    depth_max: int = 60
    refill_prob: float = 0.8
    feed_latency_us: float = 3_000.0
    snapshot_interval_ms: int = 1_000
    ticker_interval_ms: int = 1_000
    open_interest_usd: float = 5e9

    def __post_init__(self) -> None:
        if self.trades_per_day < MINUTES_PER_DAY:
            raise ValueError(
                f"trades_per_day must be >= {MINUTES_PER_DAY}, got {self.trades_per_day}"
            )
        if self.book_updates_per_day < 0:
            raise ValueError(f"book_updates_per_day must be >= 0, got {self.book_updates_per_day}")
        if self.base_price <= 0 or self.daily_vol <= 0:
            raise ValueError("base_price and daily_vol must be positive")
        Units.of(self.tick_size, self.lot_size)  # decimals with at most 9 digits, or ValueError
        if self.level_size < self.lot_size or self.mean_trade_size < self.lot_size:
            raise ValueError("level_size and mean_trade_size must be at least one lot_size")
        if self.level_gap < 1:
            raise ValueError(f"level_gap is in ticks and must be >= 1, got {self.level_gap}")
        if not 25 <= self.depth_min <= self.depth_max <= 250:
            raise ValueError(
                "need 25 <= depth_min <= depth_max <= 250 (book_snapshot_25 shows 25 levels), "
                f"got {self.depth_min}..{self.depth_max}"
            )
        if not 0 < self.refill_prob <= 1:
            raise ValueError(f"refill_prob must be in (0, 1], got {self.refill_prob}")
        if self.snapshot_interval_ms < 0 or not 0 < self.ticker_interval_ms <= 60_000:
            raise ValueError("snapshot_interval_ms >= 0 and 0 < ticker_interval_ms <= 60000")

    def with_events_per_day(self, events: int) -> SyntheticMarket:
        """The same world sized so one instrument-day has about ``events`` rows of all types.

        Trades take 8% of the budget; snapshots and ticker rows follow their cadences; the price's
        travel through the tick grid costs L2 rows of its own (cancelled and re-quoted levels,
        ~2.8 per tick travelled; a few million on a default day), and maker updates fill the
        rest. A budget below what trades, cadences and travel need gives a day with no maker
        updates, larger than asked. The split is an estimate (within ~15% on default
        parameters); the generated rows are what they are.
        """
        snapshots = 86_400_000 // max(self.snapshot_interval_ms, 1)
        ticker = 86_400_000 // self.ticker_interval_ms
        trades = max(int(events * 0.08), MINUTES_PER_DAY)
        trade_rows = trades * (1 + L2_ROWS_PER_MESSAGE + QUOTES_PER_TRADE)
        rest = events - trade_rows - snapshots - ticker - self.expected_travel_rows()
        updates = int(max(rest, 0) / (L2_ROWS_PER_MESSAGE + QUOTES_PER_UPDATE))
        return dataclasses.replace(self, trades_per_day=trades, book_updates_per_day=updates)

    def expected_travel_rows(self) -> float:
        """L2 rows a day's price travel costs on average: the fair path's expected total
        variation (Brownian between 10-second knots) in ticks, times the rows per tick."""
        knots = KNOTS_PER_MINUTE * MINUTES_PER_DAY
        travel = math.sqrt(2 / math.pi) * math.sqrt(knots) * self.daily_vol
        ticks = travel * self.base_price / self.tick_size
        return L2_ROWS_PER_TICK_TRAVELLED * ticks * 1.5 / self.level_gap

    # -- the asset: price and news ------------------------------------------------------------
    @property
    def price_model(self) -> PriceModel:
        """The parameters that shape the asset's price (shared by all its instruments)."""
        return PriceModel(
            seed=self.seed,
            base_price=self.base_price,
            daily_vol=self.daily_vol,
            news_per_day=self.news_per_day,
            news_impact=self.news_impact,
            news_fast_share=self.news_fast_share,
            news_fast_seconds=self.news_fast_seconds,
        )

    def news_events(self, day: date, symbol: str) -> list[NewsEvent]:
        """The day's headlines about ``symbol``'s base asset (the same on every exchange)."""
        return self.price_model.news_events(day, symbol)

    def news(self, day: date, symbols: list[str]) -> pl.DataFrame:
        """Headlines for the day, one row per (event, asset), in the `news` table layout."""
        return news_table(self.seed, day, symbols, self.news_per_day)

    def daily_close(self, day: date) -> float:
        """The close ``day`` is pinned to (a seeded mean-reverting walk, so days join up)."""
        return self.price_model.daily_close(day)

    def minute_path(self, symbol: str, day: date) -> tuple[np.ndarray, np.ndarray]:
        """Log-price at each minute boundary (1441 points) and per-minute volatility."""
        return self.price_model.minute_path(symbol, day)

    # -- the venue: one order book per instrument --------------------------------------------
    @property
    def book_params(self) -> BookParams:
        """The parameters of each instrument's order book and feeds."""
        return BookParams(
            trades_per_day=self.trades_per_day,
            book_updates_per_day=self.book_updates_per_day,
            tick_size=self.tick_size,
            lot_size=self.lot_size,
            mean_trade_size=self.mean_trade_size,
            level_size=self.level_size,
            level_gap=self.level_gap,
            spread_ticks=self.spread_ticks,
            depth_min=self.depth_min,
            depth_max=self.depth_max,
            refill_prob=self.refill_prob,
            feed_latency_us=self.feed_latency_us,
            snapshot_interval_ms=self.snapshot_interval_ms,
            ticker_interval_ms=self.ticker_interval_ms,
            open_interest_usd=self.open_interest_usd,
        )

    def plan(self, exchange: str, symbol: str, day: date) -> DayPlan:
        """Everything the book kernel needs for one instrument-day (cheap: a few ms)."""
        model = self.price_model
        path, sigma = model.minute_path(symbol, day)
        fair = model.fair_path(symbol, day)
        return build_plan(self.seed, self.book_params, fair, path, sigma, exchange, symbol, day)

    def stream(
        self,
        exchange: str,
        symbol: str,
        day: date,
        data_types: Collection[str] = SYNTHETIC_TYPES,
        max_rows: int = DEFAULT_MAX_ROWS,
    ) -> Iterator[dict[str, pl.DataFrame]]:
        """Chunks {data_type: frame} over consecutive spans of the day, at most ``max_rows``
        rows of any type each (snapshots: max_rows / 25); one book serves all types."""
        return stream_plan(self.plan(exchange, symbol, day), data_types, max_rows)

    def chunks(
        self,
        data_type: str,
        exchange: str,
        symbol: str,
        day: date,
        max_rows: int = DEFAULT_MAX_ROWS,
    ) -> Iterator[pl.DataFrame]:
        """One type's non-empty chunks, in order; their concatenation is the whole day."""
        for chunk in self.stream(exchange, symbol, day, (data_type,), max_rows):
            if chunk[data_type].height:
                yield chunk[data_type]

    def frame(self, data_type: str, exchange: str, symbol: str, day: date) -> pl.DataFrame:
        """The whole day of one type (the concatenation of its chunks)."""
        parts = list(self.chunks(data_type, exchange, symbol, day))
        return pl.concat(parts, rechunk=True)

    def trades(self, exchange: str, symbol: str, day: date) -> pl.DataFrame:
        """A tardis `trades` day: aggressors taking the best level, in arrival order."""
        return self.frame("trades", exchange, symbol, day)

    def quotes(self, exchange: str, symbol: str, day: date) -> pl.DataFrame:
        """A tardis `quotes` day: the top of the book after every change of it.

        The touch widens with the minute's volatility, as market makers do, so spread features
        carry information and spread costs in the backtest are not a constant.
        """
        return self.frame("quotes", exchange, symbol, day)

    def incremental_book_L2(self, exchange: str, symbol: str, day: date) -> pl.DataFrame:
        """A tardis `incremental_book_L2` day: the opening snapshot, then every level change."""
        return self.frame("incremental_book_L2", exchange, symbol, day)

    def book_snapshot_25(self, exchange: str, symbol: str, day: date) -> pl.DataFrame:
        """A tardis `book_snapshot_25` day: top 25 levels, at most every snapshot_interval_ms."""
        return self.frame("book_snapshot_25", exchange, symbol, day)

    def derivative_ticker(self, exchange: str, symbol: str, day: date) -> pl.DataFrame:
        """A tardis `derivative_ticker` day: mark/index/last, open interest, funding."""
        return self.frame("derivative_ticker", exchange, symbol, day)
