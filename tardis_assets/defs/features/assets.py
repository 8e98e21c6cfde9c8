"""Feature layer: 1-minute bars and indicators per instrument and UTC day."""

from datetime import UTC, date, datetime, timedelta

import dagster as dg

from tardis_assets.defs.common import DUCKDB_POOL, RETRY, time_range_metadata
from tardis_assets.defs.partitions import daily
from tardis_assets.defs.resources import MarketResource, WarehouseResource, day_of
from tardis_assets.lib import tables
from tardis_assets.lib.features.bars import bars_from_parquet
from tardis_assets.lib.features.indicators import with_indicators
from tardis_assets.lib.market.tardis import lake_path
from tardis_assets.lib.warehouse import PartitionWrite

BARS_WHERE = "bar_start >= ? AND bar_start < ?"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Half-open UTC bounds of a day, as aware datetimes DuckDB compares with TIMESTAMPTZ."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


@dg.asset(
    partitions_def=daily,
    deps=["raw_trades"],
    group_name="features",
    kinds={"polars", "duckdb"},
    pool=DUCKDB_POOL,
    retry_policy=RETRY,
    description=(
        "Time bars per instrument and UTC day (table bars): OHLCV, VWAP, trade count, buy/sell "
        "volume and imbalance, with log return, RSI(14), MACD(12,26,9) and 30-bar volatility. "
        "Streamed from the Parquet lake; empty minutes are filled with the previous close."
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
    frame = with_indicators(bars_from_parquet(files, market.bar_seconds, day))
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
