"""SQL literals and identifiers, for the statements DuckDB cannot bind parameters into.

``COPY ... TO``, view definitions and generated rule conditions take file paths, column names
and allowed values as text; these two functions are the one place that quotes them.
"""

from __future__ import annotations

from pathlib import Path


def sql_string(value: str | Path) -> str:
    """A single-quoted SQL literal (a path, a value)."""
    return "'" + str(value).replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    """A double-quoted SQL identifier (a column or view name)."""
    return '"' + name.replace('"', '""') + '"'
