from datetime import UTC, date, datetime

import pytest
from signals_testkit import day_bars as make_bars
from signals_testkit import news

from tardis_assets.lib.signals.windows import windows

DAY = date(2025, 3, 1)


@pytest.fixture(scope="module")
def day_bars():
    return make_bars(DAY, exchange="x")


def test_one_window_per_bar_with_its_headlines(day_bars):
    items = windows(
        day_bars,
        news(
            (datetime(2025, 3, 1, 0, 5, 30, tzinfo=UTC), "BTC rallies", ["BTC"]),
            (datetime(2025, 3, 1, 0, 5, 31, tzinfo=UTC), "ETH news", ["ETH"]),
        ),
    )
    assert len(items) == day_bars.height
    by_start = {w.start_us: w for w in items}
    five = int(datetime(2025, 3, 1, 0, 5, tzinfo=UTC).timestamp() * 1e6)
    assert by_start[five].headlines == ("BTC rallies",)
    assert by_start[five].headline_times_us == (five + 30_000_000,)
    assert by_start[five].end_us == five + 60_000_000
    assert sum(len(w.headlines) for w in items) == 1


def test_wider_windows_aggregate_ohlcv(day_bars):
    items = windows(day_bars, news(), window_minutes=5)
    assert len(items) == 288
    first = day_bars.head(5)
    assert items[0].features["high"] == pytest.approx(first["high"].max(), rel=1e-6)
    assert items[0].features["volume"] == pytest.approx(first["volume"].sum(), rel=1e-6)
    assert items[0].features["close"] == pytest.approx(first["close"][-1], rel=1e-6)


def test_window_minutes_must_be_positive(day_bars):
    with pytest.raises(ValueError):
        windows(day_bars, news(), window_minutes=0)


def test_window_must_cover_whole_bars(day_bars):
    with pytest.raises(ValueError, match="multiple of the bar size"):
        windows(day_bars, news(), window_minutes=1, bar_seconds=300)
    assert len(windows(day_bars, news(), window_minutes=10, bar_seconds=300)) == 144
