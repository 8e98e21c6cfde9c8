"""The warehouse: the project's tables in the lake, queried through the catalog's views.

Writes replace one partition file of one table (``lib/storage/lake.py``); reads are SQL over
DuckDB views on a private in-memory connection (``lib/storage/catalog.py``). Nothing here holds a
database file open, so any number of processes, on any number of machines sharing the lake, can
write different partitions at once and read while others write. The catalog file
(``warehouse.duckdb``) is only a copy of the view definitions for people and external tools.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from tardis_assets.lib.storage.catalog import Catalog
from tardis_assets.lib.storage.lake import Lake, WrittenPartition
from tardis_assets.lib.storage.schema import Table


@dataclass(frozen=True)
class Warehouse:
    """The lake plus the catalog file that mirrors its views."""

    lake: Lake
    catalog_path: Path
    _catalog: Catalog = field(init=False, repr=False, compare=False)
    _tables: dict[str, Table] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from tardis_assets.lib.tables import TABLES, project_views  # the project's, lazily

        object.__setattr__(self, "_catalog", Catalog(project_views(self.lake)))
        object.__setattr__(self, "_tables", {t.name: t for t in TABLES})

    @classmethod
    def at(cls, lake_uri: str | Path, catalog_path: str | Path) -> Warehouse:
        return cls(Lake.at(lake_uri), Path(catalog_path))

    @property
    def catalog(self) -> Catalog:
        return self._catalog

    def read(self, sql: str, params: Sequence[object] | None = None) -> pl.DataFrame:
        """Run a query over the views it names; never opens or locks a database file."""
        return self._catalog.read(sql, params)

    def write(
        self, table: Table, key: Mapping[str, object], frame: pl.DataFrame
    ) -> WrittenPartition:
        """Replace one partition of ``table`` atomically (see ``Lake.write``)."""
        return self.lake.write(table, key, frame)

    def read_partition(self, table: Table, key: Mapping[str, object]) -> pl.DataFrame | None:
        return self.lake.read(table, key)

    def read_partitions(self, table: Table, keys: Iterable[Mapping[str, object]]) -> pl.DataFrame:
        return self.lake.read_many(table, keys)

    def table_exists(self, name: str) -> bool:
        """True when ``name`` is a lake table with at least one partition written, or a view
        that can be defined now (raw tardis types, derived views)."""
        if name in self._tables:
            return self.lake.has_files(self._tables[name])
        return self._catalog.exists(name)

    def sync_catalog(self) -> None:
        """Mirror every view into the catalog file (``duckdb data/warehouse.duckdb`` sees them)."""
        self._catalog.sync(self.catalog_path)
