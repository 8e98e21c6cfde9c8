"""Raw layer: tardis trades per day into the Parquet lake, plus the day's news."""

import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import polars as pl

from tardis_assets.defs.common import DUCKDB_POOL, RETRY, bad_input
from tardis_assets.defs.partitions import daily
from tardis_assets.defs.resources import MarketResource, WarehouseResource, day_of
from tardis_assets.lib import tables
from tardis_assets.lib.market.news import NewsFileError, news_path, read_news_file
from tardis_assets.lib.market.tardis import (
    TardisFileError,
    find_input,
    ingest_file,
    lake_path,
    lake_view_sql,
    write_parquet,
)
from tardis_assets.lib.warehouse import PartitionWrite


@dg.asset(
    partitions_def=daily,
    group_name="ticks",
    kinds={"parquet", "duckdb"},
    # Not in the duckdb pool: ingest writes its own Parquet files, so days ingest in parallel; the
    # few-row raw_files write waits out a concurrent writer's lock in Warehouse.connect.
    retry_policy=RETRY,
    description=(
        "tardis.dev trades for each configured instrument and UTC day, as zstd Parquet in the "
        "lake (hive layout) behind the DuckDB view raw_trades. Reads "
        "data/inputs/{exchange}_trades_{date}_{SYMBOL}.csv.gz when present, otherwise generates a "
        "seeded synthetic day (unless synthetic_when_missing is off)."
    ),
)
def raw_trades(
    context: dg.AssetExecutionContext, market: MarketResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    day = day_of(context.partition_key)
    staged: list[tuple[Path, Path, dict]] = []
    try:
        for exchange, symbol in market.instrument_list():
            dest = lake_path(market.lake(), "trades", exchange, symbol, day)
            staging = dest.with_name(f".staging-{context.run_id}-{dest.name}")
            source = find_input(market.inputs(), exchange, "trades", day, symbol)
            if source is not None:
                result = ingest_file(source, "trades", staging, day=day)
            elif market.synthetic_when_missing:
                frame = market.synthetic().trades(exchange, symbol, day)
                result = write_parquet(frame, "trades", staging)
            else:
                raise TardisFileError(
                    market.inputs(), None, f"no trades file for {exchange} {symbol} on {day}"
                )
            staged.append(
                (
                    staging,
                    dest,
                    {
                        "data_type": "trades",
                        "exchange": exchange,
                        "symbol": symbol,
                        "date": day,
                        "source": "file" if source else "synthetic",
                        "input_path": str(source) if source else None,
                        "lake_path": str(dest),
                        "rows": result.rows,
                        "min_timestamp": result.min_timestamp,
                        "max_timestamp": result.max_timestamp,
                        "ingested_at": datetime.now(UTC),
                    },
                )
            )
    except TardisFileError as exc:
        for staging, _, _ in staged:
            staging.unlink(missing_ok=True)
        raise bad_input(context.partition_key, exc) from exc
    # Every instrument validated: publish all files, then record them (nothing partial on failure).
    for staging, dest, _ in staged:
        os.replace(staging, dest)
    records = pl.DataFrame([row for _, _, row in staged])
    wh = warehouse.warehouse()
    wh.write(
        PartitionWrite(
            "raw_files", records, "data_type = 'trades' AND date = ?", (day,), tables.RAW_FILES
        )
    )
    wh.execute([f"CREATE OR REPLACE VIEW raw_trades AS {lake_view_sql(market.lake(), 'trades')}"])
    rows = int(records["rows"].sum())
    context.log.info(f"{day}: {rows} trades from {records['source'].to_list()}")
    return dg.MaterializeResult(
        metadata={
            "rows": dg.MetadataValue.int(rows),
            "instruments": dg.MetadataValue.int(records.height),
            "sources": dg.MetadataValue.text(", ".join(records["source"].to_list())),
            "lake_files": dg.MetadataValue.text("\n".join(records["lake_path"].to_list())),
        }
    )


@dg.asset(
    partitions_def=daily,
    group_name="ticks",
    kinds={"duckdb"},
    pool=DUCKDB_POOL,
    retry_policy=RETRY,
    description=(
        "Headlines per UTC day (table news): data/inputs/news_{date}.csv when present, otherwise "
        "synthetic headlines generated with the synthetic market, so they move prices."
    ),
)
def news(
    context: dg.AssetExecutionContext, market: MarketResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    day = day_of(context.partition_key)
    path = news_path(market.inputs(), day)
    if path.exists():
        try:
            frame = read_news_file(path, day)
        except NewsFileError as exc:
            raise bad_input(context.partition_key, exc) from exc
        source = str(path)
    else:
        frame = market.synthetic().news(day, [s for _, s in market.instrument_list()])
        source = "synthetic"
    frame = frame.with_columns(date=pl.lit(day)).select("date", *frame.columns)
    warehouse.warehouse().write(PartitionWrite("news", frame, "date = ?", (day,), tables.NEWS))
    return dg.MaterializeResult(
        metadata={
            "rows": dg.MetadataValue.int(frame.height),
            "source": dg.MetadataValue.text(source),
        }
    )
