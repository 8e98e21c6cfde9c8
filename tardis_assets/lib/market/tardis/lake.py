"""SQL that exposes one data type of the Parquet lake as a DuckDB view.

The hive folder names are not used as columns for ``exchange``/``symbol``: DuckDB lets a hive key
override a same-named column of the file, and the folder holds the file-name form of the symbol
(``:``/``/`` -> ``-``) rather than the exchange's symbol. The file's own columns are kept and only
``date`` is derived from the path.
"""

from __future__ import annotations

from pathlib import Path

from tardis_assets.lib.market.tardis.errors import TardisFileError
from tardis_assets.lib.market.tardis.schemas import DATA_TYPES, SEQ, columns
from tardis_assets.lib.sql import quote_ident, sql_string


def lake_glob(lake_root: Path | str, data_type: str) -> str:
    return str(Path(lake_root) / data_type / "exchange=*" / "symbol=*" / "date=*" / "*.parquet")


def lake_view_sql(lake_root: Path | str, data_type: str) -> str:
    """A SELECT over every partition of ``data_type``: the tardis columns in order, ``seq`` (the
    row's position in its source file: arrival order) and ``date``.

    The file set is decided when the view is *queried* (the glob is re-expanded each time), but
    whether any file exists is decided *now*: with no file yet the SELECT returns zero rows of the
    right column types (DuckDB's read_parquet fails on a glob that matches nothing), so the view
    can be created before the first ingest; recreate it after the first file lands.
    """
    if data_type not in DATA_TYPES:
        raise TardisFileError(Path(lake_root), None, f"unknown data type {data_type!r}")
    cols = columns(data_type)
    root = Path(lake_root) / data_type
    if not any(root.glob("exchange=*/symbol=*/date=*/*.parquet")):
        typed_nulls = ", ".join(
            f"CAST(NULL AS {c.kind.value}) AS {quote_ident(c.name)}" for c in cols
        )
        return (
            f"SELECT {typed_nulls}, CAST(NULL AS BIGINT) AS {SEQ}, CAST(NULL AS DATE) AS date "
            "WHERE false"
        )
    names = ", ".join([*(quote_ident(c.name) for c in cols), SEQ])
    return (
        f"SELECT {names}, "
        r"CAST(regexp_extract(filename, 'date=(\d{4}-\d{2}-\d{2})', 1) AS DATE) AS date "
        f"FROM read_parquet({sql_string(lake_glob(lake_root, data_type))}, "
        "hive_partitioning = false, filename = true)"
    )
