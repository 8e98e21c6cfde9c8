from datetime import date

import numpy as np
import pytest

from tardis_assets.lib.market.synthetic import (
    MINUTES_PER_DAY,
    SyntheticMarket,
    base_asset,
    day_start_us,
)

DAY = date(2025, 3, 1)


def test_synthetic_day_is_deterministic_and_tardis_shaped():
    market = SyntheticMarket(trades_per_day=20_000)
    a = market.trades("binance-futures", "BTCUSDT", DAY)
    b = market.trades("binance-futures", "BTCUSDT", DAY)
    assert a.equals(b)
    assert a.columns == [
        "exchange",
        "symbol",
        "timestamp",
        "local_timestamp",
        "id",
        "side",
        "price",
        "amount",
    ]
    start = day_start_us(DAY)
    assert a["local_timestamp"].is_sorted()  # arrival order, as tardis files
    assert a["local_timestamp"].min() >= start
    assert a["local_timestamp"].max() < start + 86_400_000_000
    assert (a["local_timestamp"] >= a["timestamp"]).all()
    assert (a["price"] > 0).all() and (a["amount"] > 0).all()
    assert set(a["side"].unique()) == {"buy", "sell"}
    assert a["id"].n_unique() == a.height


def test_days_differ_and_prices_are_continuous():
    market = SyntheticMarket(trades_per_day=20_000)
    d1 = market.trades("binance-futures", "BTCUSDT", DAY)
    d2 = market.trades("binance-futures", "BTCUSDT", date(2025, 3, 2))
    assert not d1["price"].equals(d2["price"])
    assert abs(np.log(d2["price"][0] / d1["price"][-1])) < 0.01


def test_news_moves_the_market():
    """After bullish headlines the next 15 minutes rise more often than after bearish ones."""
    market = SyntheticMarket(news_per_day=60)
    moves = {1: [], -1: []}
    for offset in range(6):
        day = date(2025, 1, 1 + offset)
        path, _ = market.minute_path("BTCUSDT", day)
        for event in market.news_events(day, "BTCUSDT"):
            if event.direction and event.minute + 16 <= MINUTES_PER_DAY:
                moves[event.direction].append(path[event.minute + 16] - path[event.minute + 1])
    assert np.mean(moves[1]) > 0 > np.mean(moves[-1])


def test_base_asset_names():
    assert [base_asset(s) for s in ("BTCUSDT", "BTC-PERPETUAL", "XBTUSD", "ETH-USD")] == [
        "BTC",
        "BTC",
        "XBT",
        "ETH",
    ]


def test_bad_parameters():
    with pytest.raises(ValueError, match="trades_per_day"):
        SyntheticMarket(trades_per_day=10)
