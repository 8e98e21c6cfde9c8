"""The catalog: DuckDB views over the lake, rebuilt by any reader, never a lock writers wait on.

Every table of the lake is exposed as a view that globs its partition files when queried, so a
partition written a second ago is visible at once. Queries of the project run on a private
in-memory DuckDB connection that defines the views it needs: no database file is opened, so no
reader ever blocks a writer and no writer ever waits for a file lock. For people and external
tools (the DuckDB CLI, notebooks) ``sync`` writes the same views into a catalog file; it holds
only view definitions and can be deleted and rebuilt at any time.

A glob that matches no file is an error in DuckDB, so a table without files yet gets a typed,
empty view (declared columns) or no view at all (frame-defined tables, whose columns are not
known before the first write); ``sync`` after the first write replaces it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from tardis_assets.lib.errors import StorageError
from tardis_assets.lib.sql import quote_ident, sql_string
from tardis_assets.lib.storage.lake import Lake
from tardis_assets.lib.storage.schema import Table

# Only `sync` opens the catalog file; another process doing the same holds it for milliseconds.
_LOCK_RETRY_DELAYS_S = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0)


@dataclass(frozen=True)
class View:
    """A view whose SQL is decided when a connection is made (files may appear any time).

    ``sql`` returns the SELECT, or None when the view cannot exist yet; ``needs`` names the
    views it reads, so a connection that wants this one defines those first.
    """

    name: str
    sql: Callable[[], str | None]
    needs: tuple[str, ...] = ()


def table_view(lake: Lake, table: Table) -> View:
    """The view of one lake table: declared columns in order, partition keys from the paths."""

    def sql() -> str | None:
        if not lake.has_files(table):
            if table.frame_defined:
                return None
            nulls = ", ".join(
                f"CAST(NULL AS {col.value}) AS {quote_ident(name)}"
                for name, col in table.columns.items()
            )
            return f"SELECT {nulls} WHERE false"
        hive = ", ".join(f"{sql_string(k)}: {table.columns[k].value}" for k in table.partition_by)
        source = (
            f"read_parquet({sql_string(lake.glob(table))}, hive_partitioning = true"
            + (f", hive_types = {{{hive}}}" if hive else "")
            + (", union_by_name = true" if table.frame_defined else "")
            + ")"
        )
        if table.frame_defined:
            keys = ", ".join(quote_ident(k) for k in table.partition_by)
            return f"SELECT {keys}, * EXCLUDE ({keys}) FROM {source}"
        cols = ", ".join(quote_ident(c) for c in table.column_names)
        return f"SELECT {cols} FROM {source}"

    return View(table.name, sql)


class Catalog:
    """The views of the whole lake; ``read`` runs a query against them, ``sync`` stores them."""

    def __init__(self, views: Sequence[View]) -> None:
        self._views = {v.name: v for v in views}
        if len(self._views) != len(views):
            raise ValueError("two views share a name")

    @property
    def names(self) -> list[str]:
        return list(self._views)

    def _closure(self, names: Iterable[str]) -> list[str]:
        """``names`` and what they need, dependencies first."""
        ordered: list[str] = []

        def visit(name: str) -> None:
            if name in ordered or name not in self._views:
                return
            for dep in self._views[name].needs:
                visit(dep)
            ordered.append(name)

        for name in names:
            visit(name)
        return ordered

    def _define(self, conn: duckdb.DuckDBPyConnection, names: Iterable[str]) -> None:
        for name in self._closure(names):
            sql = self._views[name].sql()
            if sql is not None:
                conn.execute(f"CREATE OR REPLACE VIEW {quote_ident(name)} AS {sql}")

    def mentioned(self, sql: str) -> list[str]:
        """The catalog's views named in a query (as whole words)."""
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql))
        return [n for n in self._views if n in words]

    @contextmanager
    def connect(self, names: Iterable[str] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A private in-memory connection with the views of ``names`` (default: all)."""
        conn = duckdb.connect(config={"python_enable_replacements": False})
        try:
            conn.execute("SET TimeZone = 'UTC'")
            self._define(conn, self.names if names is None else names)
            yield conn
        finally:
            conn.close()

    def read(self, sql: str, params: Sequence[object] | None = None) -> pl.DataFrame:
        """Run one query over the views it mentions."""
        with self.connect(self.mentioned(sql)) as conn:
            return conn.sql(sql, params=list(params) if params else None).pl()

    def exists(self, name: str) -> bool:
        """True when the view can be defined now (a lake table with files, or a derived view)."""
        view = self._views.get(name)
        return view is not None and view.sql() is not None

    def sync(self, path: Path) -> None:
        """Write every view that can exist into the DuckDB file at ``path`` (for people).

        The file holds nothing but view definitions; stale views from an earlier layout are
        dropped. Another process syncing at the same moment is waited for, boundedly.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        for delay in (*_LOCK_RETRY_DELAYS_S, None):
            try:
                conn = duckdb.connect(str(path), config={"python_enable_replacements": False})
                break
            except duckdb.IOException as exc:
                if delay is None:
                    raise StorageError(
                        f"catalog {path} is held by another process: {exc}",
                        remedy="Close other DuckDB sessions on it, or delete it: it holds "
                        "only views and is rebuilt by `tardis-assets catalog`.",
                    ) from None
                time.sleep(delay)
        try:
            conn.execute("BEGIN TRANSACTION")
            existing = conn.execute(
                "SELECT table_name, table_type FROM information_schema.tables"
            ).fetchall()
            for name, kind in existing:
                word = "VIEW" if kind == "VIEW" else "TABLE"
                conn.execute(f"DROP {word} IF EXISTS {quote_ident(name)} CASCADE")
            self._define(conn, self.names)
            conn.execute("COMMIT")
        finally:
            conn.close()
