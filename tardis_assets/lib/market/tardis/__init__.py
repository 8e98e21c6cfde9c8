"""tardis.dev downloadable CSV files: schemas, discovery, validated streaming ingest, lake views,
quality reports, top-of-book rebuild and the optional download through the tardis-dev client.

Public API (the Dagster wiring codes against these names only). Every name is imported from its
module on first use (``lib/lazy.py``): the ingest loads DuckDB and Arrow, the top-of-book rebuild
compiles with numba, and a process that only names a file needs neither.
"""

from tardis_assets.lib.lazy import lazy_exports

_LAZY = {
    "rebuild_top_of_book": "book",
    "TardisDownloadError": "download",
    "download_allowed": "download",
    "download_day": "download",
    "TardisFileError": "errors",
    "IngestResult": "ingest",
    "ingest_batches": "ingest",
    "ingest_file": "ingest",
    "read_file": "ingest",
    "write_parquet": "ingest",
    "lake_view_sql": "lake",
    "TardisFile": "naming",
    "find_input": "naming",
    "lake_path": "naming",
    "parse_filename": "naming",
    "tardis_filename": "naming",
    "QualityReport": "quality",
    "quality_report": "quality",
    "DATA_TYPES": "schemas",
    "column_names": "schemas",
    "polars_schema": "schemas",
}

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


__getattr__ = lazy_exports(__name__, _LAZY)
