"""What the pipeline relies on: bars with the old character, flow that leans, news that pays."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest

from tardis_assets.lib.features.bars import bars_from_trades
from tardis_assets.lib.market.synthetic import MINUTES_PER_DAY, SyntheticMarket

DAY = date(2025, 3, 4)
EXCHANGE, SYMBOL = "binance-futures", "BTCUSDT"


@pytest.fixture(scope="module")
def market_day() -> tuple[SyntheticMarket, pl.DataFrame, pl.DataFrame]:
    market = SyntheticMarket()  # the demo defaults
    trades = market.trades(EXCHANGE, SYMBOL, DAY)
    quotes = market.quotes(EXCHANGE, SYMBOL, DAY)
    return market, trades, quotes


def test_bars_have_the_character_of_the_minute_path(market_day) -> None:
    market, trades, _ = market_day
    bars = bars_from_trades(trades, 60, DAY)
    assert bars.height == MINUTES_PER_DAY
    assert (bars["trades"] > 0).all()  # a liquid perpetual trades every minute
    path, sigma = market.minute_path(SYMBOL, DAY)
    returns = np.diff(np.log(bars["close"].to_numpy()))
    ratio = returns.std() / sigma.mean()
    assert 0.7 < ratio < 1.4  # realized 1-minute volatility is the model's
    # closes follow the minute anchors (within a few spreads)
    drift = np.abs(np.log(bars["close"].to_numpy()) - path[1:])
    assert np.median(drift) < 5e-4
    mean_size = market.mean_trade_size * math.exp(1.1**2 / 2)
    volume = bars["volume"].mean() / (market.trades_per_day * mean_size / MINUTES_PER_DAY)
    assert 0.8 < volume < 1.2


def test_aggressor_flow_leans_with_the_price_move(market_day) -> None:
    _, trades, _ = market_day
    bars = bars_from_trades(trades, 60, DAY)
    buy_share = bars["buy_volume"].sum() / bars["volume"].sum()
    assert 0.45 < buy_share < 0.55
    returns = np.diff(np.log(bars["close"].to_numpy()), prepend=np.nan)[1:]
    imbalance = bars["imbalance"].to_numpy()[1:]
    assert np.corrcoef(imbalance, returns)[0, 1] > 0.5


def test_the_spread_widens_with_volatility(market_day) -> None:
    market, _, quotes = market_day
    _, sigma = market.minute_path(SYMBOL, DAY)
    spread = quotes.group_by((pl.col("timestamp") // 60_000_000).alias("m")).agg(
        ((pl.col("ask_price") - pl.col("bid_price")) / market.tick_size).mean().alias("ticks")
    )
    spread = spread.sort("m")
    assert 1.5 < spread["ticks"].mean() < 5.0  # a few ticks, as before (mean ~3)
    vol = sigma[spread["m"].to_numpy() - spread["m"].min()]
    assert np.corrcoef(vol, spread["ticks"].to_numpy())[0, 1] > 0.3


def _last_price(times: np.ndarray, log_prices: np.ndarray, t_us: float) -> float:
    """Log price of the last trade at or before ``t_us`` (exchange time)."""
    return log_prices[max(np.searchsorted(times, t_us, side="right") - 1, 0)]


@pytest.fixture(scope="module")
def news_moves() -> dict[str, np.ndarray]:
    """Signed log moves to 15 minutes after each directional headline, by entry time."""
    market = SyntheticMarket(
        trades_per_day=30_000, book_updates_per_day=0, news_per_day=60, daily_vol=0.02
    )
    entries = {"before": -1.0, "at +50 ms": 0.05, "at +10 s": 10.0, "at +60 s": 60.0}
    moves: dict[str, list[float]] = {name: [] for name in entries}
    for offset in range(5):
        day = date(2025, 1, 6 + offset)
        trades = market.trades(EXCHANGE, SYMBOL, day)
        times = trades["timestamp"].to_numpy()
        logp = np.log(trades["price"].to_numpy())
        for event in market.news_events(day, SYMBOL):
            if not event.direction or event.minute + 17 > MINUTES_PER_DAY:
                continue
            published = event.published_us(day)
            exit_price = _last_price(times, logp, published + 16 * 60_000_000)
            for name, delay in entries.items():
                entry = _last_price(times, logp, published + delay * 1e6)
                moves[name].append(event.direction * (exit_price - entry))
    return {name: np.array(v) for name, v in moves.items()}


def test_trading_the_news_after_it_is_published_earns(news_moves) -> None:
    honest = news_moves["at +60 s"]
    assert honest.size > 150
    assert honest.mean() > 3 * honest.std() / math.sqrt(honest.size)  # a real edge


def test_trading_before_the_news_would_earn_more_and_latency_costs(news_moves) -> None:
    means = {name: v.mean() for name, v in news_moves.items()}
    assert means["before"] > means["at +50 ms"] > means["at +10 s"] > means["at +60 s"] > 0
    # the fast reaction starts at publication: 10 s of delay give up a measurable part of it
    cost = news_moves["at +50 ms"] - news_moves["at +10 s"]
    assert cost.mean() > 3 * cost.std() / math.sqrt(cost.size)
