"""Hand-built tardis-format market data and signals for the execution tests.

Times are µs offsets from T0; every builder returns a frame in the exact tardis layout (the
columns ingest writes to the lake), rows in the order given (= arrival order).
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from tardis_assets.lib.execution import ExecutionConfig, MarketData, OrderCommand, frame_market
from tardis_assets.lib.market.tardis import polars_schema

T0 = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1_000_000)
MS = 1_000
SEC = 1_000_000
EXCHANGE = "binance-futures"
SYMBOL = "BTCUSDT"

# no fees unless a test asks for them; 1 ms each way; checks every 100 ms
BASE = ExecutionConfig(
    entry_latency_ms=1.0,
    response_latency_ms=1.0,
    maker_fee_bps=0.0,
    taker_fee_bps=0.0,
    check_interval_ms=100.0,
)


def l2(rows: list[tuple]) -> pl.DataFrame:
    """rows: (ts offset, feed latency, is_snapshot, side 'bid'/'ask', price, amount)."""
    return pl.DataFrame(
        [
            (EXCHANGE, SYMBOL, T0 + t, T0 + t + lat, snap, side, float(p), float(a))
            for t, lat, snap, side, p, a in rows
        ],
        schema=polars_schema("incremental_book_L2"),
        orient="row",
    )


def snapshot(t: int, bids: list[tuple], asks: list[tuple], lat: int = 100) -> list[tuple]:
    """incremental_book_L2 snapshot rows (for `l2`) from (price, amount) levels."""
    return [(t, lat, True, "bid", p, a) for p, a in bids] + [
        (t, lat, True, "ask", p, a) for p, a in asks
    ]


def trades(rows: list[tuple]) -> pl.DataFrame:
    """rows: (ts offset, feed latency, side 'buy'/'sell', price, amount)."""
    return pl.DataFrame(
        [
            (EXCHANGE, SYMBOL, T0 + t, T0 + t + lat, str(i), side, float(p), float(a))
            for i, (t, lat, side, p, a) in enumerate(rows)
        ],
        schema=polars_schema("trades"),
        orient="row",
    )


def quotes(rows: list[tuple]) -> pl.DataFrame:
    """rows: (ts offset, feed latency, bid price, bid amount, ask price, ask amount)."""
    return pl.DataFrame(
        [
            (EXCHANGE, SYMBOL, T0 + t, T0 + t + lat, float(aa), float(ap), float(bp), float(ba))
            for t, lat, bp, ba, ap, aa in rows
        ],
        schema=polars_schema("quotes"),
        orient="row",
    )


def ticker(rows: list[tuple]) -> pl.DataFrame:
    """rows: (ts offset, funding_timestamp offset, funding_rate, mark_price)."""
    return pl.DataFrame(
        [
            (EXCHANGE, SYMBOL, T0 + t, T0 + t + 100, T0 + ft, rate, rate, 1e6, mark, mark, mark)
            for t, ft, rate, mark in rows
        ],
        schema=polars_schema("derivative_ticker"),
        orient="row",
    )


def market(
    duration_us: int = 60 * SEC, chunk_rows: int = 65_536, **frames: pl.DataFrame
) -> MarketData:
    return frame_market(EXCHANGE, SYMBOL, T0, T0 + duration_us, frames, chunk_rows=chunk_rows)


def signals(rows: list[tuple], window_us: int = 60 * SEC) -> pl.DataFrame:
    """rows: (bar_start offset, kind, value, confidence, available_at offset or None)."""
    ts = pl.Datetime("us", "UTC")
    return pl.DataFrame(
        {
            "exchange": [EXCHANGE] * len(rows),
            "symbol": [SYMBOL] * len(rows),
            "bar_start": [T0 + r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "value": [float(r[2]) for r in rows],
            "confidence": [float(r[3]) for r in rows],
            "status": ["ok"] * len(rows),
            "available_at": [None if r[4] is None else T0 + r[4] for r in rows],
        },
        schema_overrides={"bar_start": pl.Int64, "available_at": pl.Int64},
    ).with_columns(pl.col("bar_start", "available_at").cast(ts))


def us(series: pl.Series) -> list[int]:
    """Datetime column -> µs offsets from T0 (None kept)."""
    return [None if v is None else v - T0 for v in series.dt.epoch("us").to_list()]


def cmd(offset_us: int, **kwargs) -> OrderCommand:
    """An order command ``offset_us`` after T0 (local time)."""
    return OrderCommand(at_us=T0 + offset_us, **kwargs)
