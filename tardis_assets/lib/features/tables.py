"""The feature layer's table: time bars with indicators and microstructure features."""

from __future__ import annotations

from tardis_assets.lib.storage.schema import Col, Table

_F = Col.FLOAT

BARS = Table(
    "bars",
    {
        "date": Col.DATE,
        "exchange": Col.TEXT,
        "symbol": Col.TEXT,
        "bar_start": Col.TIME,
        "open": _F,
        "high": _F,
        "low": _F,
        "close": _F,
        "volume": _F,
        "vwap": _F,
        "trades": Col.INT,
        "buy_volume": _F,
        "sell_volume": _F,
        "imbalance": _F,
        "ret_1": _F,
        "rsi_14": _F,
        "macd": _F,
        "macd_signal": _F,
        "macd_hist": _F,
        "volatility_30": _F,
        "spread_mean": _F,
        "spread_close": _F,
        "mid_mean": _F,
        "mid_close": _F,
        "book_imbalance_mean": _F,
        "book_imbalance_close": _F,
        "funding_rate": _F,
        "open_interest": _F,
    },
    partition_by=("date",),
    description="time bars per instrument and UTC day",
)
