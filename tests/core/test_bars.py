from datetime import UTC, date, datetime

import polars as pl
import pytest

from tardis_assets.lib.features.bars import bars_from_parquet, bars_from_trades
from tardis_assets.lib.features.indicators import with_indicators

DAY = date(2024, 5, 1)
T0 = int(datetime(2024, 5, 1, tzinfo=UTC).timestamp() * 1_000_000)
S = 1_000_000


def trades(rows):
    return pl.DataFrame(
        rows,
        schema={
            "exchange": pl.String,
            "symbol": pl.String,
            "timestamp": pl.Int64,
            "local_timestamp": pl.Int64,
            "id": pl.String,
            "side": pl.String,
            "price": pl.Float64,
            "amount": pl.Float64,
        },
        orient="row",
    )


SMALL = trades(
    [
        # minute 0: out of order in the file on purpose: open/close follow timestamp, not row order
        ("x", "BTCUSDT", T0 + 30 * S, T0 + 30 * S + 5, "3", "sell", 101.0, 2.0),
        ("x", "BTCUSDT", T0 + 1 * S, T0 + 1 * S + 5, "1", "buy", 100.0, 1.0),
        ("x", "BTCUSDT", T0 + 10 * S, T0 + 10 * S + 5, "2", "buy", 103.0, 0.5),
        ("x", "BTCUSDT", T0 + 59 * S, T0 + 59 * S + 5, "4", "unknown", 99.0, 1.5),
        # minute 2 (minute 1 has no trade)
        ("x", "BTCUSDT", T0 + 125 * S, T0 + 125 * S + 5, "5", "buy", 98.0, 4.0),
    ]
)


def test_bars_match_hand_computation():
    bars = bars_from_trades(SMALL, 60, DAY)
    first = bars.row(0, named=True)
    assert first["bar_start"] == datetime(2024, 5, 1, tzinfo=UTC)
    assert (first["open"], first["high"], first["low"], first["close"]) == (
        100.0,
        103.0,
        99.0,
        99.0,
    )
    assert first["volume"] == pytest.approx(5.0)
    assert first["vwap"] == pytest.approx((100 * 1 + 103 * 0.5 + 101 * 2 + 99 * 1.5) / 5.0)
    assert first["trades"] == 4
    assert (first["buy_volume"], first["sell_volume"]) == (1.5, 2.0)
    assert first["imbalance"] == pytest.approx((1.5 - 2.0) / 3.5)
    gap = bars.row(1, named=True)  # empty minute: previous close carried, no volume
    assert (gap["open"], gap["high"], gap["low"], gap["close"], gap["volume"], gap["trades"]) == (
        99.0,
        99.0,
        99.0,
        99.0,
        0.0,
        0,
    )
    third = bars.row(2, named=True)
    assert (third["open"], third["close"], third["volume"], third["vwap"]) == (
        98.0,
        98.0,
        4.0,
        98.0,
    )
    assert bars.height == 1440  # full day grid after the first trade


def test_bars_from_parquet_equals_in_memory(tmp_path):
    path = tmp_path / "t.parquet"
    SMALL.write_parquet(path)
    assert bars_from_parquet(path, 60, DAY).equals(bars_from_trades(SMALL, 60, DAY))


def test_bar_size_must_divide_a_day():
    with pytest.raises(ValueError, match="divide a day"):
        bars_from_trades(SMALL, 7, DAY)


def test_trades_outside_the_day_are_not_binned():
    late = trades([("x", "BTCUSDT", T0 - S, T0 + 5, "0", "buy", 1.0, 1.0)])
    assert bars_from_trades(pl.concat([late, SMALL]), 60, DAY).row(0, named=True)["open"] == 100.0


def test_indicators_rsi_bounds_and_warmup():
    bars = with_indicators(bars_from_trades(SMALL, 60, DAY))
    assert bars["rsi_14"][:14].null_count() == 14
    rsi = bars["rsi_14"].drop_nulls()
    assert ((rsi >= 0) & (rsi <= 100)).all()
    assert bars["macd_signal"].null_count() >= 33
