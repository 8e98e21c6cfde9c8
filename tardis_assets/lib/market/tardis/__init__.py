"""tardis.dev downloadable CSV files: schemas, discovery, validated streaming ingest, lake views,
quality reports, top-of-book rebuild and the optional download through the tardis-dev client.

Public API (the Dagster wiring codes against these names only). ``rebuild_top_of_book`` is
imported on first use: it compiles with numba, which an ingest process does not need to load.
"""

from typing import Any

from tardis_assets.lib.market.tardis.download import (
    TardisDownloadError,
    download_allowed,
    download_day,
)
from tardis_assets.lib.market.tardis.errors import TardisFileError
from tardis_assets.lib.market.tardis.ingest import (
    IngestResult,
    ingest_batches,
    ingest_file,
    read_file,
    write_parquet,
)
from tardis_assets.lib.market.tardis.lake import lake_view_sql
from tardis_assets.lib.market.tardis.naming import (
    TardisFile,
    find_input,
    lake_path,
    parse_filename,
    tardis_filename,
)
from tardis_assets.lib.market.tardis.quality import QualityReport, quality_report
from tardis_assets.lib.market.tardis.schemas import DATA_TYPES, column_names, polars_schema

__all__ = [
    "DATA_TYPES",
    "IngestResult",
    "QualityReport",
    "TardisDownloadError",
    "TardisFile",
    "TardisFileError",
    "column_names",
    "download_allowed",
    "download_day",
    "find_input",
    "ingest_batches",
    "ingest_file",
    "lake_path",
    "lake_view_sql",
    "parse_filename",
    "polars_schema",
    "quality_report",
    "read_file",
    "rebuild_top_of_book",
    "tardis_filename",
    "write_parquet",
]


def __getattr__(name: str) -> Any:
    if name == "rebuild_top_of_book":
        from tardis_assets.lib.market.tardis.book import rebuild_top_of_book

        return rebuild_top_of_book
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
