"""Feature layer: 1-minute bars and indicators per instrument and UTC day."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl

from tardis_assets.defs.common import DUCKDB_POOL, RETRY, time_range_metadata
from tardis_assets.defs.partitions import daily
from tardis_assets.defs.resources import MarketResource, WarehouseResource, day_of
from tardis_assets.lib import tables
from tardis_assets.lib.features.bars import bars_from_parquet
from tardis_assets.lib.features.indicators import with_indicators
from tardis_assets.lib.features.microstructure import attach_microstructure
from tardis_assets.lib.market.tardis import lake_path
from tardis_assets.lib.warehouse import PartitionWrite

BARS_WHERE = "bar_start >= ? AND bar_start < ?"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Half-open UTC bounds of a day, as aware datetimes DuckDB compares with TIMESTAMPTZ."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _scan(
    market: MarketResource, enabled: tuple[str, ...], candidates: tuple[str, ...], day: date
) -> pl.LazyFrame | None:
    """The first enabled candidate type with lake files for the day (all instruments), or None:
    an absent type leaves its feature columns null instead of failing the bars."""
    for data_type in candidates:
        if data_type not in enabled:
            continue
        files = [
            lake_path(market.lake(), data_type, exchange, symbol, day)
            for exchange, symbol in market.instrument_list()
        ]
        present = [str(f) for f in files if f.exists()]
        if present:
            return pl.scan_parquet(present)
    return None


def build_bars_asset(raw_types: tuple[str, ...]) -> dg.AssetsDefinition:
    """The bars asset, depending on every enabled raw type (richer types add columns)."""

    @dg.asset(
        name="bars",
        partitions_def=daily,
        deps=[f"raw_{t}" for t in raw_types],
        group_name="features",
        kinds={"polars", "duckdb"},
        pool=DUCKDB_POOL,
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
        day = day_of(context.partition_key)
        files = [
            lake_path(market.lake(), "trades", exchange, symbol, day)
            for exchange, symbol in market.instrument_list()
        ]
        missing = [str(f) for f in files if not f.exists()]
        if missing:
            raise dg.Failure(
                f"partition {context.partition_key}: raw_trades not materialized: {missing}",
                allow_retries=False,
            )
        frame = attach_microstructure(
            with_indicators(bars_from_parquet(files, market.bar_seconds, day)),
            quotes=_scan(market, raw_types, ("quotes",), day),
            snapshots=_scan(market, raw_types, ("book_snapshot_5", "book_snapshot_25"), day),
            ticker=_scan(market, raw_types, ("derivative_ticker",), day),
            bar_seconds=market.bar_seconds,
        )
        warehouse.warehouse().write(
            PartitionWrite("bars", frame, BARS_WHERE, day_bounds(day), tables.BARS)
        )
        return dg.MaterializeResult(
            metadata={
                "rows": dg.MetadataValue.int(frame.height),
                "trades": dg.MetadataValue.int(int(frame["trades"].sum()) if frame.height else 0),
                "instruments": dg.MetadataValue.int(frame["symbol"].n_unique()),
                **time_range_metadata(frame, "bar_start"),
            }
        )

    return bars
