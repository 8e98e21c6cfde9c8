"""Per-bar features from quotes, book snapshots and derivative ticker, hand-checked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from tardis_assets.lib.features.microstructure import (
    FEATURE_SCHEMA,
    attach_microstructure,
    book_imbalance_features,
    quote_features,
    ticker_features,
)
from tardis_assets.lib.market.tardis import read_file

MINUTE0 = datetime(2020, 5, 1, 0, 0, tzinfo=UTC)


def test_quote_features_on_huobi_fixture(tardis_dir: Path) -> None:
    quotes = read_file(tardis_dir / "huobi-dm-swap_quotes_2020-05-01_BTC-USD.csv", "quotes")
    out = quote_features(quotes)
    assert out.columns == [
        "exchange", "symbol", "bar_start", "spread_mean", "spread_close", "mid_mean", "mid_close",
    ]  # fmt: skip
    assert out["bar_start"].dtype == pl.Datetime("us", "UTC")
    # All ten quotes (00:00:01.099 .. 00:00:01.814) fall in the first minute and every one has
    # ask 8629.3 / bid 8629.2: spread 0.1, mid 8629.25.
    row = out.row(0, named=True)
    assert out.height == 1
    assert (row["exchange"], row["symbol"], row["bar_start"]) == (
        "huobi-dm-swap",
        "BTC-USD",
        MINUTE0,
    )
    assert row["spread_mean"] == pytest.approx(0.1, abs=1e-9)
    assert row["spread_close"] == pytest.approx(0.1, abs=1e-9)
    assert row["mid_mean"] == pytest.approx(8629.25)
    assert row["mid_close"] == pytest.approx(8629.25)
    # LazyFrame in, LazyFrame out, same numbers
    assert quote_features(quotes.lazy()).collect().equals(out)


def test_quote_features_hand_computed_two_bars(tardis_dir: Path) -> None:
    quotes = read_file(tardis_dir / "huobi-dm-swap_quotes_2020-05-01_BTC-USD.csv", "quotes")
    # widen three quotes, move two into the next minute, blank the bid of one
    quotes = quotes.with_columns(
        ask_price=pl.Series(
            [8629.3, 8629.5, 8629.3, 8630.0, 8629.3, 8629.3, 8629.3, 8629.3, 8631.0, 8629.4]
        ),
        bid_price=pl.Series(
            [8629.2, 8629.2, 8629.2, 8629.0, None, 8629.2, 8629.2, 8629.2, 8630.0, 8629.0]
        ),
        timestamp=pl.col("timestamp") + pl.Series([0] * 8 + [60_000_000] * 2),
    )  # fmt: skip
    out = quote_features(quotes)
    assert out["bar_start"].to_list() == [MINUTE0, MINUTE0.replace(minute=1)]
    first, second = out.rows(named=True)
    # minute 0: spreads 0.1, 0.3, 0.1, 1.0, (none), 0.1, 0.1, 0.1 -> mean 1.8 / 7
    assert first["spread_mean"] == pytest.approx(1.8 / 7)
    assert first["spread_close"] == pytest.approx(0.1)
    mids = [8629.25, 8629.35, 8629.25, 8629.5, 8629.25, 8629.25, 8629.25]
    assert first["mid_mean"] == pytest.approx(sum(mids) / 7)
    assert first["mid_close"] == pytest.approx(8629.25)
    # minute 1: spreads 1.0 then 0.4
    assert second["spread_mean"] == pytest.approx(0.7)
    assert second["spread_close"] == pytest.approx(0.4)
    assert second["mid_close"] == pytest.approx(8629.2)


def test_book_imbalance_on_binance_fixture(tardis_dir: Path) -> None:
    snaps = read_file(
        tardis_dir / "binance-futures_book_snapshot_5_2020-09-01_BTCUSDT.csv", "book_snapshot_5"
    )
    out = book_imbalance_features(snaps)
    bid, ask = snaps["bids[0].amount"], snaps["asks[0].amount"]
    per_row = ((bid - ask) / (bid + ask)).to_list()
    assert out.height == 1
    assert out["book_imbalance_mean"][0] == pytest.approx(sum(per_row) / len(per_row))
    # last snapshot: bids[0] 10.881 vs asks[0] 1.393
    assert out["book_imbalance_close"][0] == pytest.approx((10.881 - 1.393) / (10.881 + 1.393))


def test_ticker_features_last_in_bar(tardis_dir: Path) -> None:
    ticker = read_file(
        tardis_dir / "bitmex_derivative_ticker_2020-03-01_XBTUSD.csv", "derivative_ticker"
    )
    out = ticker_features(ticker)
    assert out["funding_rate"].to_list() == [0.0001, 0.00015]
    assert out["open_interest"].to_list() == [1_000_000.0, 1_000_500.0]
    assert out["bar_start"].dt.minute().to_list() == [0, 1]
    # a 5-minute bar keeps the last of the two
    five = ticker_features(ticker, bar_seconds=300)
    assert five["funding_rate"].to_list() == [0.00015]


def test_attach_leaves_absent_types_null(tardis_dir: Path) -> None:
    quotes = read_file(tardis_dir / "huobi-dm-swap_quotes_2020-05-01_BTC-USD.csv", "quotes")
    bars = pl.DataFrame(
        {
            "exchange": ["huobi-dm-swap", "huobi-dm-swap"],
            "symbol": ["BTC-USD", "BTC-USD"],
            "bar_start": [MINUTE0, MINUTE0.replace(minute=1)],
            "close": [8629.3, 8629.4],
        }
    )
    out = attach_microstructure(bars, quotes=quotes)
    assert out.columns == [*bars.columns, *FEATURE_SCHEMA]
    assert out["mid_close"].to_list()[0] == pytest.approx(8629.25)
    assert out["mid_close"].to_list()[1] is None  # no quotes in minute 1
    assert out["funding_rate"].null_count() == 2 and out["book_imbalance_mean"].null_count() == 2
    nothing = attach_microstructure(bars)
    assert nothing.height == 2 and all(nothing[c].null_count() == 2 for c in FEATURE_SCHEMA)
    assert dict(nothing.select(list(FEATURE_SCHEMA)).schema) == FEATURE_SCHEMA
