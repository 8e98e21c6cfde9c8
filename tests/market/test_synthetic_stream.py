"""Streaming: chunks of any size concatenate to the same day; the day is a function of the seed."""

from __future__ import annotations

import dataclasses
from datetime import date

import polars as pl
import pytest

from tardis_assets.lib.market.synthetic import SYNTHETIC_TYPES, SyntheticMarket

DAY = date(2025, 3, 1)
EXCHANGE, SYMBOL = "binance-futures", "BTCUSDT"
MARKET = SyntheticMarket(
    trades_per_day=4_000,
    book_updates_per_day=8_000,
    daily_vol=0.005,
    snapshot_interval_ms=500,
    ticker_interval_ms=5_000,
)


def whole_day(market: SyntheticMarket, max_rows: int) -> tuple[int, dict[str, pl.DataFrame]]:
    parts: dict[str, list[pl.DataFrame]] = {t: [] for t in SYNTHETIC_TYPES}
    chunks = 0
    for chunk in market.stream(EXCHANGE, SYMBOL, DAY, max_rows=max_rows):
        assert set(chunk) == set(SYNTHETIC_TYPES)
        chunks += 1
        for data_type, frame in chunk.items():
            assert frame.height <= max(max_rows, 1_000), data_type
            parts[data_type].append(frame)
    return chunks, {t: pl.concat(frames) for t, frames in parts.items()}


@pytest.fixture(scope="module")
def reference() -> dict[str, pl.DataFrame]:
    chunks, frames = whole_day(MARKET, 10_000_000)
    assert chunks == 1
    return frames


@pytest.mark.parametrize("max_rows", [1_500, 9_000, 64_000])
def test_concatenated_chunks_equal_the_whole_day(
    reference: dict[str, pl.DataFrame], max_rows: int
) -> None:
    chunks, frames = whole_day(MARKET, max_rows)
    assert chunks > 1
    for data_type in SYNTHETIC_TYPES:
        assert frames[data_type].equals(reference[data_type]), data_type


def test_one_type_alone_is_the_same_as_in_the_joint_stream(
    reference: dict[str, pl.DataFrame],
) -> None:
    for data_type in SYNTHETIC_TYPES:
        chunks = list(MARKET.chunks(data_type, EXCHANGE, SYMBOL, DAY, max_rows=5_000))
        assert all(c.height > 0 for c in chunks)
        assert pl.concat(chunks).equals(reference[data_type]), data_type
        assert MARKET.frame(data_type, EXCHANGE, SYMBOL, DAY).equals(reference[data_type])
    assert MARKET.trades(EXCHANGE, SYMBOL, DAY).equals(reference["trades"])
    assert MARKET.quotes(EXCHANGE, SYMBOL, DAY).equals(reference["quotes"])
    assert MARKET.incremental_book_L2(EXCHANGE, SYMBOL, DAY).equals(
        reference["incremental_book_L2"]
    )
    assert MARKET.book_snapshot_25(EXCHANGE, SYMBOL, DAY).equals(reference["book_snapshot_25"])
    assert MARKET.derivative_ticker(EXCHANGE, SYMBOL, DAY).equals(reference["derivative_ticker"])


def test_chunks_cover_consecutive_spans() -> None:
    last_local = {t: -1 for t in SYNTHETIC_TYPES}
    for chunk in MARKET.stream(EXCHANGE, SYMBOL, DAY, max_rows=3_000):
        for data_type, frame in chunk.items():
            if frame.height:
                assert frame["local_timestamp"][0] >= last_local[data_type]
                last_local[data_type] = frame["local_timestamp"][-1]


def test_same_seed_same_day_other_seed_other_day(reference: dict[str, pl.DataFrame]) -> None:
    again = dataclasses.replace(MARKET)
    assert again is not MARKET
    assert again.trades(EXCHANGE, SYMBOL, DAY).equals(reference["trades"])
    other = dataclasses.replace(MARKET, seed=8)
    for data_type in ("trades", "incremental_book_L2", "derivative_ticker"):
        theirs = other.frame(data_type, EXCHANGE, SYMBOL, DAY)
        assert not theirs.equals(reference[data_type]), data_type


def test_each_instrument_has_its_own_book_on_one_price(
    reference: dict[str, pl.DataFrame],
) -> None:
    """Two venues of the same asset: different books and trades, the same underlying price."""
    ours = reference["quotes"]
    theirs = MARKET.quotes("bybit", SYMBOL, DAY)
    assert not theirs.select(pl.exclude("exchange")).equals(ours.select(pl.exclude("exchange")))
    assert (theirs["exchange"] == "bybit").all()
    mid = (pl.col("bid_price") + pl.col("ask_price")) / 2
    minute = (pl.col("timestamp") // 60_000_000).alias("minute")
    a = ours.group_by(minute).agg(mid.last().alias("a"))
    b = theirs.group_by(minute).agg(mid.last().alias("b"))
    both = a.join(b, on="minute")
    gap = both.select(((pl.col("a") / pl.col("b")) - 1).abs().max()).item()
    assert gap < 0.002  # same asset price, within a few spreads


def test_a_day_is_not_shifted_by_the_next_one(reference: dict[str, pl.DataFrame]) -> None:
    nxt = MARKET.trades(EXCHANGE, SYMBOL, date(2025, 3, 2))
    assert nxt["timestamp"].min() > reference["trades"]["timestamp"].max()
    # prices join up across midnight (the daily closes pin both paths)
    jump = nxt["price"][0] / reference["trades"]["price"][-1] - 1
    assert abs(jump) < 0.01


def test_unknown_types_and_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="does not make"):
        next(MARKET.stream(EXCHANGE, SYMBOL, DAY, data_types=("liquidations",)))
    with pytest.raises(ValueError, match="max_rows"):
        next(MARKET.stream(EXCHANGE, SYMBOL, DAY, max_rows=0))
    with pytest.raises(ValueError, match="depth_min"):
        SyntheticMarket(depth_min=10)
    with pytest.raises(ValueError, match="level_gap"):
        SyntheticMarket(level_gap=0.5)
    with pytest.raises(ValueError, match="book_updates_per_day"):
        SyntheticMarket(book_updates_per_day=-1)


def test_an_events_budget_sizes_the_day() -> None:
    calm = SyntheticMarket(daily_vol=0.005, snapshot_interval_ms=1_000)
    market = calm.with_events_per_day(1_500_000)
    assert market.trades_per_day == 120_000 and market.book_updates_per_day > 0
    rows = sum(
        frame.height
        for chunk in market.stream(EXCHANGE, SYMBOL, DAY, max_rows=500_000)
        for frame in chunk.values()
    )
    assert 1.5e6 * 0.75 < rows < 1.5e6 * 1.25
