"""DuckDB warehouse access: short-lived connections and idempotent partition writes.

DuckDB allows one writer process per file, so every connection here is opened for one read or
one write and closed in ``finally``; nothing keeps a handle across LLM calls or long compute.
Partition writes are ``DELETE`` + ``INSERT`` inside one transaction, so a retry, a crash or a
re-run leaves either the previous version of the partition or the new one, never a mix.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

# Lock conflicts with another process are transient (writers hold the file only for one short
# transaction); waits are bounded (~32 s in all) so a stuck holder still surfaces as an error.
_LOCK_RETRY_DELAYS_S = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0, 5.0, 5.0)


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "could not set lock" in text or "conflicting lock" in text


@dataclass(frozen=True)
class Warehouse:
    """A DuckDB database file; the only place that opens connections to it."""

    path: Path

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open a connection, retrying briefly on another process's lock, and always close it."""
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise FileNotFoundError(
                f"warehouse {self.path} does not exist yet: run the pipeline first"
            )
        # Without this, a missing table name silently resolves to a Python variable of that name.
        config = {"python_enable_replacements": False}
        conn = None
        for delay in (*_LOCK_RETRY_DELAYS_S, None):
            try:
                conn = duckdb.connect(str(self.path), read_only=read_only, config=config)
                break
            except duckdb.IOException as exc:
                if delay is None or not _is_lock_error(exc):
                    raise
                time.sleep(delay)
        assert conn is not None
        try:
            yield conn
        finally:
            conn.close()

    def execute(self, statements: Sequence[str]) -> None:
        """Run DDL or maintenance statements in one short write connection."""
        with self.connect() as conn:
            for statement in statements:
                conn.execute(statement)

    def read(self, sql: str, params: Sequence[object] | None = None) -> pl.DataFrame:
        """Run a query and return a polars frame (connection closed before returning).

        Read-only, so reading never creates the file nor blocks on a writer's transaction.
        """
        with self.connect(read_only=True) as conn:
            return conn.sql(sql, params=list(params) if params else None).pl()

    def table_exists(self, name: str) -> bool:
        if not self.path.exists():
            return False
        with self.connect(read_only=True) as conn:
            rows = conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            ).fetchall()
        return bool(rows[0][0])

    def write(self, *writes: PartitionWrite) -> None:
        """Apply several partition writes in one transaction.

        Related tables (signals and their per-partition LLM stats, say) are written together so they
        can never disagree after a crash; on any error everything rolls back.
        """
        with self.connect() as conn:
            for write in writes:
                write.create(conn)
            conn.execute("BEGIN TRANSACTION")
            try:
                for i, write in enumerate(writes):
                    write.apply(conn, f"_incoming_{i}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise


@dataclass(frozen=True)
class PartitionWrite:
    """Replace the rows of ``table`` matching ``where`` by ``frame`` (or append unseen keys).

    ``ddl`` creates the table when missing, so the table contract lives next to its writer; with
    ``ddl=None`` the table takes the frame's schema (report tables whose columns are defined by
    the library that computes them, e.g. one column per metric).
    """

    table: str
    frame: pl.DataFrame
    where: str
    params: tuple[object, ...]
    ddl: str | None
    append_only_key: tuple[str, ...] = ()

    def create(self, conn: duckdb.DuckDBPyConnection) -> None:
        if self.ddl is not None:
            conn.execute(self.ddl)
            return
        conn.register("_schema_of_frame", self.frame.head(0).to_arrow())
        try:
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} AS SELECT * FROM _schema_of_frame"
            )
            # A library that grows a new column (a new metric) extends the stored table.
            have = {r[0] for r in conn.execute(f"DESCRIBE {self.table}").fetchall()}
            for name, sql_type, *_ in conn.execute("DESCRIBE _schema_of_frame").fetchall():
                if name not in have:
                    conn.execute(f'ALTER TABLE {self.table} ADD COLUMN "{name}" {sql_type}')
        finally:
            conn.unregister("_schema_of_frame")

    def apply(self, conn: duckdb.DuckDBPyConnection, view_name: str) -> None:
        columns = ", ".join(f'"{c}"' for c in self.frame.columns)
        conn.register(view_name, self.frame.to_arrow())
        try:
            if self.append_only_key:
                # Append-only tables (the LLM ledger) keep history: insert only unseen keys.
                join = " AND ".join(f't."{k}" = i."{k}"' for k in self.append_only_key)
                conn.execute(
                    f"INSERT INTO {self.table} ({columns}) SELECT {columns} FROM {view_name} i "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {self.table} t WHERE {join})"
                )
            else:
                conn.execute(f"DELETE FROM {self.table} WHERE {self.where}", list(self.params))
                conn.execute(
                    f"INSERT INTO {self.table} ({columns}) SELECT {columns} FROM {view_name}"
                )
        finally:
            conn.unregister(view_name)


def row_counts(warehouse: Warehouse, tables: Mapping[str, str] | Sequence[str]) -> dict[str, int]:
    """Row count per existing table or view (missing ones are reported as 0)."""
    names = list(tables)
    if not warehouse.path.exists():
        return dict.fromkeys(names, 0)
    counts: dict[str, int] = {}
    with warehouse.connect(read_only=True) as conn:
        existing = {
            r[0]
            for r in conn.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        for name in names:
            counts[name] = (
                conn.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
                if name in existing
                else 0
            )
    return counts
