"""One synthetic book, five tardis types that agree with it row for row.

Every check replays the generated L2 stream with the project's own readers (the rebuild in
``lib/market/tardis/book.py``, or a plain-Python full-depth replay) and compares it with the
other types: quotes are the rebuilt top after each change, trades take the best level that the
book held just before them, snapshots are the rebuilt top 25 levels, the ticker's mark is the
rebuilt mid.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from tardis_assets.lib.market.synthetic import (
    FUNDING_PERIOD_US,
    SYNTHETIC_TYPES,
    US_PER_DAY,
    SyntheticMarket,
    day_start_us,
)
from tardis_assets.lib.market.tardis.book import rebuild_top_of_book

DAY = date(2025, 3, 1)
EXCHANGE, SYMBOL = "binance-futures", "BTCUSDT"
TOP = ["best_bid_price", "best_bid_amount", "best_ask_price", "best_ask_amount"]
# Small and calm (low volatility keeps the L2 stream short) but with every mechanism at work.
MARKET = SyntheticMarket(
    trades_per_day=8_000, book_updates_per_day=16_000, daily_vol=0.006, snapshot_interval_ms=200
)


@pytest.fixture(scope="module")
def day() -> dict[str, pl.DataFrame]:
    parts: dict[str, list[pl.DataFrame]] = {t: [] for t in SYNTHETIC_TYPES}
    for chunk in MARKET.stream(EXCHANGE, SYMBOL, DAY, max_rows=50_000):
        for data_type, frame in chunk.items():
            parts[data_type].append(frame)
    return {t: pl.concat(frames) for t, frames in parts.items()}


@pytest.fixture(scope="module")
def top(day: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The top of the L2-rebuilt book after each exchange message."""
    out = rebuild_top_of_book(day["incremental_book_L2"], per_message=True)
    assert out["book_ready"].all()
    return out


def test_every_type_is_generated(day: dict[str, pl.DataFrame]) -> None:
    assert all(day[t].height > 0 for t in SYNTHETIC_TYPES)
    assert day["trades"].height >= 8_000 * 0.9


def test_rows_arrive_in_order_inside_the_day(day: dict[str, pl.DataFrame]) -> None:
    start = day_start_us(DAY)
    for data_type, frame in day.items():
        local, ts = frame["local_timestamp"], frame["timestamp"]
        assert local.is_sorted(), data_type  # arrival order, as tardis files
        assert ts.is_sorted(), data_type  # each feed delivers in order (no reordering)
        assert local.min() >= start and local.max() < start + US_PER_DAY, data_type
        assert ts.min() >= start, data_type
        latency = local - ts
        assert latency.min() >= 200 and latency.max() < 1_000_000, data_type


def test_prices_on_the_tick_grid_and_amounts_valid(day: dict[str, pl.DataFrame]) -> None:
    columns = {
        "trades": ["price"],
        "quotes": ["bid_price", "ask_price"],
        "incremental_book_L2": ["price"],
        "book_snapshot_25": ["asks[0].price", "bids[24].price"],
        "derivative_ticker": ["last_price"],
    }
    for data_type, names in columns.items():
        for name in names:
            ticks = day[data_type][name].to_numpy() / MARKET.tick_size
            assert np.abs(ticks - np.round(ticks)).max() < 1e-6, (data_type, name)
            assert (day[data_type][name] > 0).all(), (data_type, name)
    assert (day["trades"]["amount"] > 0).all()
    assert (day["incremental_book_L2"]["amount"] >= 0).all()
    lots = day["incremental_book_L2"]["amount"].to_numpy() / MARKET.lot_size
    assert np.abs(lots - np.round(lots)).max() < 1e-6
    assert set(day["trades"]["side"].unique()) == {"buy", "sell"}
    assert day["trades"]["id"].n_unique() == day["trades"].height


def test_the_day_opens_with_a_snapshot_of_the_book(day: dict[str, pl.DataFrame]) -> None:
    l2 = day["incremental_book_L2"]
    first_update = int(l2["is_snapshot"].arg_min())
    opening = l2.head(first_update)
    assert first_update >= 2 * MARKET.depth_min
    assert opening["is_snapshot"].all() and not l2["is_snapshot"].slice(first_update).any()
    assert opening["local_timestamp"].n_unique() == 1  # one message
    assert opening["timestamp"][0] == day_start_us(DAY)
    bids = opening.filter(pl.col("side") == "bid")["price"]
    asks = opening.filter(pl.col("side") == "ask")["price"]
    assert bids.len() >= MARKET.depth_min and asks.len() >= MARKET.depth_min
    assert bids.max() < asks.min()
    # the first quote and the first snapshot are that opening book
    assert day["quotes"]["local_timestamp"][0] == opening["local_timestamp"][0]
    assert day["quotes"]["bid_price"][0] == bids.max()
    assert day["book_snapshot_25"]["asks[0].price"][0] == asks.min()


def test_quotes_are_the_top_of_the_rebuilt_book_after_each_change(
    day: dict[str, pl.DataFrame], top: pl.DataFrame
) -> None:
    changed = top.filter(
        pl.any_horizontal([pl.col(c).ne_missing(pl.col(c).shift(1)) for c in TOP])
    ).select("timestamp", "local_timestamp", *TOP)
    quotes = day["quotes"].select(
        "timestamp",
        "local_timestamp",
        pl.col("bid_price").alias("best_bid_price"),
        pl.col("bid_amount").alias("best_bid_amount"),
        pl.col("ask_price").alias("best_ask_price"),
        pl.col("ask_amount").alias("best_ask_amount"),
    )
    assert quotes.height > 0
    assert changed.equals(quotes)
    assert (quotes["best_bid_price"] < quotes["best_ask_price"]).all()  # never crossed


def test_trades_take_the_best_level_the_book_held_just_before(
    day: dict[str, pl.DataFrame], top: pl.DataFrame
) -> None:
    trades = day["trades"]
    before = trades.join_asof(
        top.select("timestamp", *TOP), on="timestamp", allow_exact_matches=False
    )
    buy = pl.col("side") == "buy"
    best = pl.when(buy).then(pl.col("best_ask_price")).otherwise(pl.col("best_bid_price"))
    size = pl.when(buy).then(pl.col("best_ask_amount")).otherwise(pl.col("best_bid_amount"))
    assert before.filter(pl.col("price") != best).height == 0
    assert before.filter(pl.col("amount") > size + 1e-9).height == 0
    # The trade's message starts with the consumed level: same price, size reduced by the trade.
    first_rows = day["incremental_book_L2"].group_by("timestamp", maintain_order=True).first()
    joined = before.join(
        first_rows.select(
            "timestamp",
            pl.col("side").alias("l2_side"),
            pl.col("price").alias("l2_price"),
            pl.col("amount").alias("l2_amount"),
        ),
        on="timestamp",
        how="left",
    )
    assert joined["l2_price"].null_count() == 0
    assert (joined["l2_price"] == joined["price"]).all()
    taken_side = pl.when(buy).then(pl.lit("ask")).otherwise(pl.lit("bid"))
    assert joined.select((pl.col("l2_side") == taken_side).all()).item()
    left = joined.select((size - pl.col("amount") - pl.col("l2_amount")).abs().max()).item()
    assert left < 1e-9
    # Some trades take a whole level, and the next best level becomes the touch.
    assert (joined["l2_amount"] == 0).any()


def _replay_snapshots(l2: pl.DataFrame, snapshots: pl.DataFrame) -> int:
    """Replay every L2 row; at each snapshot's arrival compare its 25 levels; returns checks."""
    local = l2["local_timestamp"].to_numpy()
    is_bid = (l2["side"] == "bid").to_numpy()
    price, amount = l2["price"].to_numpy(), l2["amount"].to_numpy()
    wanted = {row["local_timestamp"]: row for row in snapshots.iter_rows(named=True)}
    books: tuple[dict[float, float], dict[float, float]] = ({}, {})
    checked = 0
    n = local.size
    i = 0
    while i < n:
        j = i
        while j < n and local[j] == local[i]:  # one message
            side = books[0] if is_bid[j] else books[1]
            if amount[j] == 0:
                side.pop(price[j], None)
            else:
                side[price[j]] = amount[j]
            j += 1
        snap = wanted.get(local[i])
        if snap is not None:
            bids = sorted(books[0].items(), reverse=True)[:25]
            asks = sorted(books[1].items())[:25]
            for k in range(25):
                assert (snap[f"bids[{k}].price"], snap[f"bids[{k}].amount"]) == bids[k]
                assert (snap[f"asks[{k}].price"], snap[f"asks[{k}].amount"]) == asks[k]
            checked += 1
        i = j
    return checked


def test_snapshots_are_the_top_25_levels_of_the_rebuilt_book(
    day: dict[str, pl.DataFrame],
) -> None:
    snapshots = day["book_snapshot_25"]
    assert _replay_snapshots(day["incremental_book_L2"], snapshots) == snapshots.height
    gaps = snapshots["timestamp"].diff().drop_nulls()
    assert gaps.min() >= MARKET.snapshot_interval_ms * 1000  # the documented cadence
    assert sum(snapshots.null_count().row(0)) == 0  # 25 full levels a side


def test_ticker_funding_marks_and_open_interest(
    day: dict[str, pl.DataFrame], top: pl.DataFrame
) -> None:
    ticker = day["derivative_ticker"]
    start = day_start_us(DAY)
    ts = ticker["timestamp"]
    assert ts.diff().drop_nulls().unique().to_list() == [MARKET.ticker_interval_ms * 1000]
    # funding every 8 h at 00/08/16 UTC: each row names the next funding time after it
    funding = ticker["funding_timestamp"]
    assert funding.unique().sort().to_list() == [start + k * FUNDING_PERIOD_US for k in (1, 2, 3)]
    assert ((funding - ts > 0) & (funding - ts <= FUNDING_PERIOD_US)).all()
    assert ((funding - day_start_us(date(1970, 1, 1))) % FUNDING_PERIOD_US == 0).all()
    assert ticker["funding_rate"].abs().max() <= 0.003
    assert (ticker["open_interest"] > 0).all()
    # the mark is the mid of the book as it stood at the row's time
    mids = ticker.join_asof(
        top.select("timestamp", *TOP), on="timestamp", allow_exact_matches=False
    ).select("mark_price", ((pl.col("best_bid_price") + pl.col("best_ask_price")) / 2).alias("mid"))
    assert (mids["mark_price"] - mids["mid"]).abs().max() < 0.006
    premium = ticker["mark_price"] / ticker["index_price"] - 1
    assert premium.abs().max() < 0.005
    last = ticker.join_asof(
        day["trades"].select("timestamp", pl.col("price").alias("trade_price")),
        on="timestamp",
        allow_exact_matches=False,
    ).drop_nulls("trade_price")
    assert (last["last_price"] == last["trade_price"]).all()
