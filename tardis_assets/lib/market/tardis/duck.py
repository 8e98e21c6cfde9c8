"""DuckDB connections for ingest's precise path, and translation of DuckDB's CSV errors.

Clean files never open one (Arrow parses and writes them). A file the fast path refused, and the
scan of an in-memory frame, get their own short-lived in-memory connection with a memory cap
and two threads, so even a 50M-row day re-read by DuckDB stays in bounded memory.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from tardis_assets.lib.market.tardis.errors import TardisFileError

DEFAULT_MEMORY_LIMIT = "512MB"
DEFAULT_THREADS = 2


@contextmanager
def ingest_connection(
    memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int = DEFAULT_THREADS
) -> Iterator[duckdb.DuckDBPyConnection]:
    # Large aggregates (duplicate ids over 50M rows) spill instead of failing at the memory cap;
    # the spill folder is private to this connection and removed with it.
    with tempfile.TemporaryDirectory(prefix="duckdb-spill-") as spill:
        con = duckdb.connect(
            config={
                "python_enable_replacements": False,
                "memory_limit": memory_limit,
                "threads": threads,
                "temp_directory": spill,
                # Row order of the Parquet file must follow the CSV so row numbers map to lines.
                "preserve_insertion_order": True,
            }
        )
        try:
            con.sql("SET enable_progress_bar = false")  # a session option, not a connect one
            yield con
        finally:
            con.close()


_LINE = re.compile(r"Line:\s*(\d+)")
_CONVERT = re.compile(
    r'Error when converting column "(?P<col>[^"]+)"\.\s*Could not convert string "(?P<val>.*?)" '
    r"to '(?P<type>\w+)'",
    re.S,
)
_COLUMNS = re.compile(r"Expected Number of Columns:\s*(\d+)\s*Found:\s*(\d+)")
_LINE_SIZE = re.compile(r"Maximum line size of (\d+) bytes exceeded\. Actual Size:\s*(\d+)")
_TYPE_WORDS = {
    "DOUBLE": "non-numeric",
    "BIGINT": "non-integer",
    "BOOLEAN": "non-boolean",
}


def translate_error(path: Path, exc: duckdb.Error) -> TardisFileError:
    """Keep DuckDB's line number, restate the reason in the file's terms."""
    text = str(exc)
    line_match = _LINE.search(text)
    line = int(line_match.group(1)) if line_match else None
    if m := _CONVERT.search(text):
        word = _TYPE_WORDS.get(m["type"], f"invalid {m['type']}")
        return TardisFileError(path, line, f"{word} value {m['val']!r} in column {m['col']}")
    if m := _COLUMNS.search(text):
        return TardisFileError(
            path, line, f"wrong number of fields: expected {m.group(1)}, found {m.group(2)}"
        )
    if m := _LINE_SIZE.search(text):
        return TardisFileError(
            path,
            line,
            f"line longer than {int(m.group(1)):,} bytes ({int(m.group(2)):,}; no line ending "
            "where a tardis row ends): a corrupt or non-tardis file",
        )
    low = text.lower()
    if "gzip" in low or "zlib" in low or "decompress" in low:
        return TardisFileError(path, line, f"truncated or corrupt gzip stream ({_first(text)})")
    return TardisFileError(path, line, _first(text))


def _first(text: str) -> str:
    """DuckDB messages carry long hints after the first line, which is the one that says it."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(("Original Line", "Possible", "*"))]
    head = useful[0] if useful else text.strip()
    return head[:300]
