"""One column definition per table, from which the DuckDB DDL and the polars schema both follow.

A table's contract is written once, as an ordered mapping of column name to ``Col``, next to the
layer that owns the table. Writers conform their frames to it (exact columns, exact types, in
order) and readers, views and tests derive what they need from the same object, so the SQL side
and the DataFrame side can never drift apart.

Report tables whose columns are defined by the library that computes them (one column per
metric, say) are ``frame_defined``: only their partition columns are declared here, and the
frame the library returns is the rest of the contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

import polars as pl


class Col(Enum):
    """A column type with its DuckDB spelling; ``polars`` gives the matching polars dtype."""

    TEXT = "VARCHAR"
    INT = "BIGINT"
    INT32 = "INTEGER"
    FLOAT = "DOUBLE"
    BOOL = "BOOLEAN"
    DATE = "DATE"
    TIME = "TIMESTAMPTZ"  # µs, UTC
    TEXT_LIST = "VARCHAR[]"

    @property
    def polars(self) -> pl.DataType:
        return _POLARS[self]


_POLARS: dict[Col, pl.DataType] = {
    Col.TEXT: pl.String(),
    Col.INT: pl.Int64(),
    Col.INT32: pl.Int32(),
    Col.FLOAT: pl.Float64(),
    Col.BOOL: pl.Boolean(),
    Col.DATE: pl.Date(),
    Col.TIME: pl.Datetime("us", "UTC"),
    Col.TEXT_LIST: pl.List(pl.String()),
}


@dataclass(frozen=True)
class Table:
    """A table contract: ordered columns, and the columns whose values name a partition file.

    ``partition_by`` columns become the lake's hive folders (``date=2025-03-01/kind=risk``): one
    Parquet file per distinct combination is the unit a write replaces atomically. They are kept
    in the folder names only, so a view can prune files by path without opening them.
    """

    name: str
    columns: Mapping[str, Col]
    partition_by: tuple[str, ...] = ()
    description: str = ""
    frame_defined: bool = False
    _schema: pl.Schema = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = [c for c in self.partition_by if c not in self.columns]
        if unknown:
            raise ValueError(f"table {self.name}: partition columns {unknown} are not columns")
        schema = pl.Schema({name: col.polars for name, col in self.columns.items()})
        object.__setattr__(self, "_schema", schema)

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)

    @property
    def polars_schema(self) -> pl.Schema:
        return self._schema

    def ddl(self) -> str:
        """``CREATE TABLE IF NOT EXISTS`` with every declared column in order."""
        cols = ",\n    ".join(f'"{name}" {col.value}' for name, col in self.columns.items())
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n    {cols}\n)"

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self._schema)

    def conform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Exactly this table's columns, in order, cast to its types; anything else is an error.

        Missing or unexpected columns are programming errors of the writer, so they raise
        instead of being dropped or filled: a silently dropped column is lost data. A
        frame-defined table only requires (and casts) its declared columns.
        """
        missing = [c for c in self.columns if c not in frame.columns]
        if self.frame_defined:
            if missing:
                raise ValueError(f"table {self.name}: frame lacks partition columns {missing}")
            return frame.cast({c: self._schema[c] for c in self.columns}, strict=True)
        extra = [c for c in frame.columns if c not in self.columns]
        if missing or extra:
            raise ValueError(
                f"table {self.name}: frame has missing columns {missing} / unexpected {extra}"
            )
        return frame.select(self.column_names).cast(dict(self._schema), strict=True)
