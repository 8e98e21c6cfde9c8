"""Feature layer: 1-minute bars and indicators per instrument and UTC day."""

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from tardis_assets.defs.partitions import daily
from tardis_assets.defs.resources import MarketResource, WarehouseResource
from tardis_assets.defs.support.context import day_of
from tardis_assets.defs.support.failures import RETRY, expected_failures
from tardis_assets.defs.support.metadata import time_range_metadata
from tardis_assets.lib.errors import MissingInputError
from tardis_assets.lib.market.tardis import lake_path

if TYPE_CHECKING:
    import polars as pl


def _scan(
    market: MarketResource,
    lake: Path,
    enabled: tuple[str, ...],
    candidates: tuple[str, ...],
    day: date,
) -> "pl.LazyFrame | None":
    """The first enabled candidate type with lake files for the day (all instruments), or None:
    an absent type leaves its feature columns null instead of failing the bars."""
    import polars as pl

    for data_type in candidates:
        if data_type not in enabled:
            continue
        files = [
            lake_path(lake, data_type, exchange, symbol, day)
            for exchange, symbol in market.instrument_list()
        ]
        present = [str(f) for f in files if f.exists()]
        if present:
            return pl.scan_parquet(present)
    return None


def _bars_of_day(
    day: date, market: MarketResource, warehouse: WarehouseResource, raw_types: tuple[str, ...]
) -> "pl.DataFrame":
    """Build and store one day's bars for every instrument; returns what was stored."""
    import polars as pl

    from tardis_assets.lib.features.bars import bars_from_parquet
    from tardis_assets.lib.features.indicators import with_indicators
    from tardis_assets.lib.features.microstructure import attach_microstructure
    from tardis_assets.lib.features.tables import BARS

    wh = warehouse.warehouse()
    lake = wh.lake.root
    files = [
        lake_path(lake, "trades", exchange, symbol, day)
        for exchange, symbol in market.instrument_list()
    ]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise MissingInputError(
            f"raw_trades is not materialized for {day}: no lake file {', '.join(missing)}",
            remedy="Materialize raw_trades for that day first.",
        )
    frame = attach_microstructure(
        with_indicators(bars_from_parquet(files, market.bar_seconds, day)),
        quotes=_scan(market, lake, raw_types, ("quotes",), day),
        snapshots=_scan(market, lake, raw_types, ("book_snapshot_5", "book_snapshot_25"), day),
        ticker=_scan(market, lake, raw_types, ("derivative_ticker",), day),
        bar_seconds=market.bar_seconds,
    ).with_columns(date=pl.lit(day))
    wh.write(BARS, {"date": day}, frame)
    return frame


def build_bars_asset(raw_types: tuple[str, ...]) -> dg.AssetsDefinition:
    """The bars asset, depending on every enabled raw type (richer types add columns)."""

    @dg.asset(
        name="bars",
        partitions_def=daily,
        deps=[f"raw_{t}" for t in raw_types],
        group_name="features",
        kinds={"polars", "parquet"},
        retry_policy=RETRY,
        description=(
            "Time bars per instrument and UTC day (table bars): OHLCV, VWAP, trade count, buy/sell "
            "volume and imbalance, with log return, RSI(14), MACD(12,26,9) and 30-bar volatility. "
            "Streamed from the Parquet lake; empty minutes are filled with the previous close. "
            "Spread and mid from quotes, top-of-book imbalance from book snapshots, funding and "
            "open interest from derivative_ticker when those types are enabled (else null)."
        ),
    )
    def bars(
        context: dg.AssetExecutionContext, market: MarketResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        with expected_failures("bars", context.partition_key):
            frame = _bars_of_day(day_of(context.partition_key), market, warehouse, raw_types)
        return dg.MaterializeResult(
            metadata={
                "rows": dg.MetadataValue.int(frame.height),
                "trades": dg.MetadataValue.int(int(frame["trades"].sum()) if frame.height else 0),
                "instruments": dg.MetadataValue.int(frame["symbol"].n_unique()),
                **time_range_metadata(frame, "bar_start"),
            }
        )

    return bars
