"""Raw layer: one asset per enabled tardis data type, per UTC day, into the Parquet lake.

Each raw asset writes one zstd Parquet file per (type, exchange, symbol, date), seen through the
catalog view ``raw_<type>``, and its ingest log partition in ``raw_files``. Files are published
by atomic rename once every instrument of the day validated, so days ingest in parallel and a
failure publishes nothing.
"""

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from tardis_assets.defs.partitions import daily
from tardis_assets.defs.resources import MarketResource, QualityResource, WarehouseResource
from tardis_assets.defs.support.context import day_of
from tardis_assets.defs.support.failures import RETRY, expected_failures
from tardis_assets.defs.support.metadata import time_range_metadata

if TYPE_CHECKING:
    from tardis_assets.lib.market.raw_partition import Downloader, StagedFile, SyntheticWriter


def _synthetic_writer(market: MarketResource) -> "SyntheticWriter | None":
    """Streams a synthetic day of a type into a staging file (bounded memory, the same rules as
    a file), or None in the real-data setup. Types the synthetic market does not make
    (liquidations, options) are absent on days without a file."""
    if not market.synthetic_when_missing:
        return None
    from tardis_assets.lib.market.synthetic import SYNTHETIC_TYPES, record_batches

    world = market.synthetic()

    def write(data_type: str, exchange: str, symbol: str, day: date, staging: Path):
        from tardis_assets.lib.market.tardis import ingest_batches

        if data_type not in SYNTHETIC_TYPES:
            return None
        rows = record_batches(world, data_type, exchange, symbol, day)
        return ingest_batches(rows, data_type, staging, day=day)

    return write


def _downloader(market: MarketResource) -> "Downloader | None":
    """Fetch a missing day from tardis.dev into the inputs folder when that is allowed.

    Network failures raise (the asset's retry policy retries them); a day that needs a key we do
    not have is simply not downloaded.
    """
    if not market.download_missing:
        return None
    from tardis_assets.lib.market.tardis.download import download_allowed, download_day

    def download(data_type: str, exchange: str, symbol: str, day: date) -> Path | None:
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

    return download


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
        context: dg.AssetExecutionContext,
        market: MarketResource,
        warehouse: WarehouseResource,
        quality: QualityResource,
    ) -> dg.MaterializeResult:
        from tardis_assets.lib.market.raw_partition import (
            discard,
            files_frame,
            publish,
            quality_frame,
            stage_instrument,
        )
        from tardis_assets.lib.market.tables import RAW_FILES, RAW_QUALITY

        day = day_of(context.partition_key)
        wh = warehouse.warehouse()
        rules = quality.rules()
        synthetic, download = _synthetic_writer(market), _downloader(market)
        staged: list[StagedFile] = []
        try:
            with expected_failures(f"raw_{data_type}", context.partition_key):
                for exchange, symbol in market.instrument_list():
                    staged.append(
                        stage_instrument(
                            data_type=data_type,
                            exchange=exchange,
                            symbol=symbol,
                            day=day,
                            lake=wh.lake.root,
                            inputs=market.inputs(),
                            run_id=context.run.run_id,
                            rules=rules,
                            synthetic=synthetic,
                            download=download,
                            limits=market.inflate_limits(),
                        )
                    )
        except BaseException:
            # Any failure (bad file, broken rule, download error, crash): nothing is published.
            discard(staged)
            raise
        # Every instrument validated: publish all files, then record them (nothing partial).
        publish(staged)
        records = files_frame(data_type, day, staged)
        wh.write(
            RAW_QUALITY,
            {"data_type": data_type, "date": day},
            quality_frame(data_type, day, staged),
        )
        wh.write(RAW_FILES, {"data_type": data_type, "date": day}, records)
        for item in staged:
            for note in item.notes:
                context.log.info(f"{data_type} {day} {item.instrument}: {note}")
            for finding in item.warnings:
                context.log.warning(finding.sentence())
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
                "warnings": dg.MetadataValue.text(
                    "\n".join(f.sentence() for item in staged for f in item.warnings) or "none"
                ),
                "notes": dg.MetadataValue.text(
                    "\n".join(n for item in staged for n in item.notes) or "none"
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
    import polars as pl

    from tardis_assets.lib.market.news import news_path, read_news_file
    from tardis_assets.lib.market.tables import NEWS

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
