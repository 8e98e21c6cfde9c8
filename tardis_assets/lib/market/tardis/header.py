"""First-line checks done before DuckDB sees a file.

DuckDB is told the columns explicitly (so it never sniffs), which means it would happily read a
file whose header is wrong or missing as data. The header is therefore checked here, on the first
line only, so a 50M-row file costs one small read.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from tardis_assets.lib.market.tardis.errors import TardisFileError

_GZIP_MAGIC = b"\x1f\x8b"
_MAX_HEADER_BYTES = 1 << 20


def is_gzip(path: Path) -> bool:
    """By content, not by suffix: a user may have unpacked a file but kept its name, or not."""
    with path.open("rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def read_first_line(path: Path) -> str:
    """The first line without its line ending; raises 'empty' for 0 bytes / no content."""
    if not path.is_file():
        raise TardisFileError(path, None, "file not found")
    if path.stat().st_size == 0:
        raise TardisFileError(path, 1, "empty file (0 bytes): no header and no rows")
    try:
        if is_gzip(path):
            with gzip.open(path, "rb") as fh:
                raw = fh.readline(_MAX_HEADER_BYTES)
        else:
            with path.open("rb") as fh:
                raw = fh.readline(_MAX_HEADER_BYTES)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise TardisFileError(path, None, f"truncated or corrupt gzip stream ({exc})") from None
    if not raw.strip():
        raise TardisFileError(path, 1, "empty file: no header and no rows")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TardisFileError(path, 1, "header is not UTF-8 text") from None
    return text.lstrip("\ufeff").rstrip("\r\n")


def check_header(path: Path, data_type: str, expected: list[str]) -> None:
    """Compare the header with the published one and say precisely how it differs."""
    found = read_first_line(path).split(",")
    if found == expected:
        return
    raise TardisFileError(path, 1, describe_header_difference(data_type, expected, found))


def describe_header_difference(data_type: str, expected: list[str], found: list[str]) -> str:
    if not set(found) & set(expected):
        return (
            f"missing header: expected the {data_type} header "
            f"'{','.join(expected[:6])}{',...' if len(expected) > 6 else ''}' "
            f"but the first line is '{','.join(found)[:120]}'"
        )
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    parts: list[str] = []
    if missing:
        parts.append(f"missing columns {missing}")
    if extra:
        parts.append(f"unexpected columns {extra}")
    if not parts:
        if len(found) != len(expected):
            parts.append(f"{len(found)} columns instead of {len(expected)} (repeated column)")
        else:
            pos = next(i for i, (a, b) in enumerate(zip(expected, found, strict=True)) if a != b)
            parts.append(
                f"column order differs at position {pos + 1}: "
                f"expected {expected[pos]!r}, found {found[pos]!r}"
            )
    return f"wrong header for {data_type}: " + "; ".join(parts)
