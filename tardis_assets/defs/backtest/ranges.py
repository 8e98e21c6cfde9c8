"""The configured range (days, instrument) that range-level assets read from the warehouse."""

import hashlib
import json
from datetime import date
from typing import TYPE_CHECKING

import dagster as dg

from tardis_assets.lib.days import day_bounds
from tardis_assets.lib.errors import BadInputError, MissingInputError

if TYPE_CHECKING:
    import polars as pl

    from tardis_assets.lib.warehouse import Warehouse


class RangeConfig(dg.Config):
    """Days (inclusive, UTC) and instrument; empty fields mean "all stored" / "first instrument"."""

    start: str | None = None
    end: str | None = None
    exchange: str | None = None
    symbol: str | None = None

    def key(self, **extra: object) -> str:
        """A stable run id for this range and the extra parameters (re-runs replace rows)."""
        payload = json.dumps({**self.model_dump(), **extra}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def resolve_instrument(wh: "Warehouse", cfg: RangeConfig) -> tuple[str, str]:
    """The configured instrument, or the first stored one (fields left empty)."""
    import polars as pl

    if not wh.table_exists("bars"):
        raise MissingInputError("no bars stored yet", remedy="Materialize bars first.")
    instruments = wh.read("SELECT DISTINCT exchange, symbol FROM bars ORDER BY ALL")
    if cfg.exchange:
        instruments = instruments.filter(pl.col("exchange") == cfg.exchange)
    if cfg.symbol:
        instruments = instruments.filter(pl.col("symbol") == cfg.symbol)
    if instruments.is_empty():
        raise MissingInputError(
            f"no bars for {cfg.exchange or 'any exchange'}:{cfg.symbol or 'any symbol'}",
            remedy="Check the range's exchange and symbol, or materialize bars for them.",
        )
    exchange, symbol = instruments.row(0)
    return exchange, symbol


def load_range(wh: "Warehouse", cfg: RangeConfig) -> "tuple[pl.DataFrame, pl.DataFrame, str]":
    """Bars and signals of the range for one instrument, and a label; clear errors when empty."""
    import polars as pl

    exchange, symbol = resolve_instrument(wh, cfg)
    first, last = wh.read(
        "SELECT min(bar_start), max(bar_start) FROM bars WHERE exchange = ? AND symbol = ?",
        [exchange, symbol],
    ).row(0)
    if first is None:
        raise MissingInputError(f"no bars for {exchange}:{symbol}")
    start = date.fromisoformat(cfg.start) if cfg.start else first.date()
    end = date.fromisoformat(cfg.end) if cfg.end else last.date()
    if start > end:
        raise BadInputError(
            f"range start {start} is after end {end}", remedy="Swap start and end in the config."
        )
    lo, hi = day_bounds(start)[0], day_bounds(end)[1]
    # The date bounds let DuckDB skip other days' files by path; bar_start keeps it exact.
    where = (
        "exchange = ? AND symbol = ? AND date BETWEEN ? AND ? AND bar_start >= ? AND bar_start < ?"
    )
    params = [exchange, symbol, start, end, lo, hi]
    bars = wh.read(f"SELECT * FROM bars WHERE {where} ORDER BY bar_start", params)
    if bars.is_empty():
        raise MissingInputError(
            f"no bars for {exchange}:{symbol} between {start} and {end}",
            remedy="Materialize bars for those days, or choose a stored range.",
        )
    signals = (
        wh.read(f"SELECT * FROM llm_signals WHERE {where}", params)
        if wh.table_exists("llm_signals")
        else pl.DataFrame()
    )
    return bars, signals, f"{exchange}:{symbol} {start}..{end}"
