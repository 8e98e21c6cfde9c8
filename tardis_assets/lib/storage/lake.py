"""The lake: every table is a folder of immutable Parquet partition files.

``<root>/<table>/<key>=<value>/.../part.parquet`` holds the rows of one partition (one
combination of the table's ``partition_by`` values). A write replaces that one file with an
atomic rename, so:

- a retry, a re-run or a crash leaves either the previous version of the partition or the new
  one, never a mix and never a duplicate;
- writers of different partitions never wait for each other (no single-writer database file in
  the write path), which is what lets partitions run in parallel processes and on other machines;
- readers need no lock: DuckDB views glob the files (see ``catalog``), and assets read the files
  of their own partitions directly.

Partition values live only in the folder names (hive layout), so a query filtering on them skips
files without opening them. The root is a ``file://`` URI or a plain path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlparse

import polars as pl

from tardis_assets.lib.errors import ConfigError
from tardis_assets.lib.storage.files import atomic_target
from tardis_assets.lib.storage.schema import Table

PART_FILE = "part.parquet"
# Values become folder names: no separators, no '=', nothing hidden, nothing empty.
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]*$")


def parse_root(uri: str | Path) -> Path:
    """The local folder of a lake URI: ``file:///data/lake``, or a plain path.

    Other schemes (``s3://``...) are refused with a sentence saying what to do: object storage
    needs a filesystem mount (see docs/ARCHITECTURE.md) until it is supported natively.
    """
    text = str(uri)
    parsed = urlparse(text)
    if parsed.scheme in ("", "file") or len(parsed.scheme) == 1:  # "C:" is a drive, not a scheme
        if parsed.scheme == "file":
            if parsed.netloc not in ("", "localhost"):
                raise ConfigError(f"lake URI {text!r} names a host; use file:///absolute/path")
            return Path(unquote(parsed.path))
        return Path(text)
    raise ConfigError(
        f"lake URI {text!r} uses the {parsed.scheme!r} scheme, which this build cannot write",
        remedy="Mount the bucket as a filesystem and give its path (file:///mnt/lake).",
    )


def partition_value(value: object) -> str:
    """The folder-name form of one partition value (dates as ISO days)."""
    text = value.isoformat() if isinstance(value, date) else str(value)
    if not _SAFE_VALUE.match(text):
        raise ValueError(f"partition value {value!r} cannot name a lake folder")
    return text


@dataclass(frozen=True)
class WrittenPartition:
    path: Path
    rows: int
    bytes: int


@dataclass(frozen=True)
class Lake:
    """A lake rooted at a local folder; cheap to build, holds no handles."""

    root: Path

    @classmethod
    def at(cls, uri: str | Path) -> Lake:
        return cls(parse_root(uri))

    def table_dir(self, table: Table | str) -> Path:
        return self.root / (table if isinstance(table, str) else table.name)

    def partition_file(self, table: Table, key: Mapping[str, object]) -> Path:
        if set(key) != set(table.partition_by):
            raise ValueError(
                f"table {table.name} is partitioned by {table.partition_by}, got key {dict(key)}"
            )
        folder = self.table_dir(table)
        for name in table.partition_by:
            folder = folder / f"{name}={partition_value(key[name])}"
        return folder / PART_FILE

    def glob(self, table: Table | str) -> str:
        return str(self.table_dir(table) / "**" / "*.parquet")

    def has_files(self, table: Table | str) -> bool:
        folder = self.table_dir(table)
        return folder.is_dir() and next(folder.rglob("*.parquet"), None) is not None

    def write(
        self, table: Table, key: Mapping[str, object], frame: pl.DataFrame
    ) -> WrittenPartition:
        """Replace one partition with ``frame`` (which must carry the key in its columns).

        An empty frame still writes a file: "materialized, zero rows" differs from "never
        materialized", and the file keeps the table's schema for the views.
        """
        path = self.partition_file(table, key)
        frame = table.conform(frame)
        for name in table.partition_by:
            values = frame.get_column(name).unique().to_list()
            expected = table.polars_schema[name]
            want = pl.Series([key[name]]).cast(expected).to_list()
            if values and values != want:
                raise ValueError(
                    f"table {table.name}: rows for {name}={values[:3]} in partition {dict(key)}"
                )
        body = frame.drop(list(table.partition_by))
        with atomic_target(path) as tmp:
            body.write_parquet(tmp, compression="zstd", compression_level=3, statistics=True)
        return WrittenPartition(path, body.height, path.stat().st_size)

    def read(self, table: Table, key: Mapping[str, object]) -> pl.DataFrame | None:
        """One partition with its key columns restored, or None when it was never written."""
        path = self.partition_file(table, key)
        if not path.exists():
            return None
        body = pl.read_parquet(path)
        keys = [
            pl.lit(key[name]).cast(table.polars_schema[name]).alias(name)
            for name in table.partition_by
        ]
        frame = body.with_columns(keys)
        if table.frame_defined:
            return frame.select(list(table.partition_by), pl.exclude(list(table.partition_by)))
        return frame.select(table.column_names)

    def read_many(self, table: Table, keys: Iterable[Mapping[str, object]]) -> pl.DataFrame:
        """The partitions of ``keys`` that exist, concatenated (empty frame when none)."""
        parts = [f for f in (self.read(table, k) for k in keys) if f is not None]
        if not parts:
            return table.empty()
        return pl.concat(parts, how="diagonal_relaxed" if table.frame_defined else "vertical")

    def delete(self, table: Table, key: Mapping[str, object]) -> bool:
        """Remove one partition (True if it existed)."""
        path = self.partition_file(table, key)
        if not path.exists():
            return False
        path.unlink()
        return True
