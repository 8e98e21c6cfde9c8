"""Raw layer: one asset per enabled tardis data type, per UTC day, into the Parquet lake.

Each raw asset writes one zstd Parquet file per (type, exchange, symbol, date), seen through the
catalog view ``raw_<type>``, and its ingest log partition in ``raw_files``. Files are published
by atomic rename once every instrument of the day validated, so days ingest in parallel and a
failure publishes nothing.
"""

import os
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import polars as pl

from tardis_assets.defs.partitions import daily
from tardis_assets.defs.resources import MarketResource, WarehouseResource
from tardis_assets.defs.support.context import day_of
from tardis_assets.defs.support.failures import RETRY, expected_failures
from tardis_assets.defs.support.metadata import time_range_metadata
from tardis_assets.lib.market.news import news_path, read_news_file
from tardis_assets.lib.market.synthetic import SyntheticMarket
from tardis_assets.lib.market.tables import NEWS, RAW_FILES
from tardis_assets.lib.market.tardis import (
    TardisFileError,
    find_input,
    ingest_file,
    lake_path,
    write_parquet,
)

Generator = Callable[[SyntheticMarket, str, str, date], pl.DataFrame]
# Types the synthetic market can make; others are simply absent on days without a file.
SYNTHETIC: dict[str, Generator] = {
    "trades": lambda m, exchange, symbol, day: m.trades(exchange, symbol, day),
    "quotes": lambda m, exchange, symbol, day: m.quotes(exchange, symbol, day),
}


def _download(
    market: MarketResource, data_type: str, exchange: str, symbol: str, day: date
) -> Path | None:
    """Fetch a missing day from tardis.dev into the inputs folder when that is allowed.

    Network failures raise (the asset's retry policy retries them); a day that needs a key we do
    not have is simply not downloaded.
    """
    from tardis_assets.lib.market.tardis.download import download_allowed, download_day

    if not download_allowed(day, market.tardis_api_key):
        return None
    return download_day(
        market.inputs(),
        exchange,
        data_type,
        day,
        symbol,
        api_key=market.tardis_api_key,
        endpoint=market.tardis_endpoint,
    )


def _stage(
    market: MarketResource,
    lake: Path,
    data_type: str,
    exchange: str,
    symbol: str,
    day: date,
    run_id: str,
) -> tuple[Path | None, Path, dict]:
    """Validate one instrument's file (or generate it) into a staging file next to its target."""
    dest = lake_path(lake, data_type, exchange, symbol, day)
    # Not named *.parquet, so the lake views' glob can never see a half-published partition.
    staging = dest.with_name(f".{dest.stem}.{run_id}.staging")
    source = find_input(market.inputs(), exchange, data_type, day, symbol)
    if source is None and market.download_missing:
        source = _download(market, data_type, exchange, symbol, day)
    record = {
        "data_type": data_type,
        "exchange": exchange,
        "symbol": symbol,
        "date": day,
        "source": "file",
        "input_path": str(source) if source else None,
        "lake_path": str(dest),
        "rows": 0,
        "min_timestamp": None,
        "max_timestamp": None,
        "ingested_at": datetime.now(UTC),
    }
    if source is not None:
        result = ingest_file(source, data_type, staging, day=day)
    elif not market.synthetic_when_missing:
        expected = market.inputs() / f"{exchange}_{data_type}_{day.isoformat()}_{symbol}.csv.gz"
        raise TardisFileError(expected, None, "no such input file (real-data configuration)")
    elif data_type in SYNTHETIC:
        frame = SYNTHETIC[data_type](market.synthetic(), exchange, symbol, day)
        result = write_parquet(frame, data_type, staging)
        record["source"] = "synthetic"
    else:
        # No file and no generator: the type is absent that day; features leave its columns null.
        # The caller removes an older file at dest, once every instrument has validated.
        return None, dest, {**record, "source": "absent", "lake_path": None}
    record.update(
        rows=result.rows, min_timestamp=result.min_timestamp, max_timestamp=result.max_timestamp
    )
    return staging, dest, record


def build_raw_asset(data_type: str) -> dg.AssetsDefinition:
    """The raw asset for one tardis data type (``raw_trades``, ``raw_quotes``, ...)."""

    @dg.asset(
        name=f"raw_{data_type}",
        partitions_def=daily,
        group_name="ticks",
        kinds={"parquet", "duckdb"},
        retry_policy=RETRY,
        description=(
            f"tardis.dev `{data_type}` for each configured instrument and UTC day, as zstd "
            f"Parquet in the lake (hive layout) behind the DuckDB view raw_{data_type}. Reads "
            f"data/inputs/{{exchange}}_{data_type}_{{date}}_{{SYMBOL}}.csv(.gz) when present; "
            "otherwise synthetic (trades, quotes) or absent, unless synthetic_when_missing is off."
        ),
    )
    def raw_asset(
        context: dg.AssetExecutionContext, market: MarketResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        day = day_of(context.partition_key)
        wh = warehouse.warehouse()
        staged: list[tuple[Path | None, Path, dict]] = []
        try:
            with expected_failures(f"raw_{data_type}", context.partition_key):
                for exchange, symbol in market.instrument_list():
                    staged.append(
                        _stage(
                            market,
                            wh.lake.root,
                            data_type,
                            exchange,
                            symbol,
                            day,
                            context.run.run_id,
                        )
                    )
        except BaseException:
            # Any failure (bad file, download error, crash of the step): nothing is published.
            for staging, _, _ in staged:
                if staging is not None:
                    staging.unlink(missing_ok=True)
            raise
        # Every instrument validated: publish all files, then record them (nothing partial).
        for staging, dest, _ in staged:
            if staging is None:
                dest.unlink(missing_ok=True)
            else:
                os.replace(staging, dest)
        records = pl.DataFrame(
            [record for _, _, record in staged],
            schema_overrides={"min_timestamp": pl.Int64, "max_timestamp": pl.Int64},
        )
        wh.write(RAW_FILES, {"data_type": data_type, "date": day}, records)
        rows = int(records["rows"].sum())
        sources = records["source"].to_list()
        first, last = records["min_timestamp"].min(), records["max_timestamp"].max()
        context.log.info(f"{day}: {rows} {data_type} rows from {sources}")
        return dg.MaterializeResult(
            metadata={
                "rows": dg.MetadataValue.int(rows),
                "instruments": dg.MetadataValue.int(records.height),
                "sources": dg.MetadataValue.text(", ".join(sources)),
                **(
                    {}
                    if first is None
                    else {
                        "first": dg.MetadataValue.timestamp(first / 1e6),
                        "last": dg.MetadataValue.timestamp(last / 1e6),
                    }
                ),
                "lake_files": dg.MetadataValue.text(
                    "\n".join(p for p in records["lake_path"].to_list() if p)
                ),
            }
        )

    return raw_asset


@dg.asset(
    partitions_def=daily,
    group_name="ticks",
    kinds={"parquet"},
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
        with expected_failures("news", context.partition_key):
            frame = read_news_file(path, day)
        source = str(path)
    else:
        frame = market.synthetic().news(day, [s for _, s in market.instrument_list()])
        source = "synthetic"
    frame = frame.with_columns(date=pl.lit(day))
    warehouse.warehouse().write(NEWS, {"date": day}, frame)
    return dg.MaterializeResult(
        metadata={
            "rows": dg.MetadataValue.int(frame.height),
            "source": dg.MetadataValue.text(source),
            **time_range_metadata(frame, "published_at"),
        }
    )
