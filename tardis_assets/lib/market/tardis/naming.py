"""File names of the tardis-dev client and the lake's hive layout.

Users drop files downloaded by the tardis-dev client into ``data/inputs/`` without renaming them,
so discovery follows the client's default naming exactly:
``{exchange}_{data_type}_{YYYY-MM-DD}_{SYMBOL}.csv.gz`` with the symbol uppercased and ``:``/``/``
replaced by ``-``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tardis_assets.lib.market.tardis.errors import TardisFileError
from tardis_assets.lib.market.tardis.schemas import DATA_TYPES


@dataclass(frozen=True)
class TardisFile:
    exchange: str
    data_type: str
    day: date
    symbol: str
    path: Path


def file_symbol(symbol: str) -> str:
    """Symbol as the tardis-dev client writes it into file names."""
    return symbol.replace(":", "-").replace("/", "-").upper()


def tardis_filename(exchange: str, data_type: str, day: date, symbol: str, gz: bool = True) -> str:
    """Default file name of the tardis-dev client (``gz=False`` for an already unpacked file)."""
    suffix = ".csv.gz" if gz else ".csv"
    return f"{exchange}_{data_type}_{day.isoformat()}_{file_symbol(symbol)}{suffix}"


# Exchange ids use hyphens only, so the first underscore ends the exchange; the date then ends
# the data type (which has underscores itself); symbols may contain underscores (gate-io BTC_USDT).
_NAME = re.compile(
    r"^(?P<exchange>[A-Za-z0-9.-]+)_(?P<data_type>[A-Za-z0-9_]+?)_(?P<day>\d{4}-\d{2}-\d{2})_"
    r"(?P<symbol>[^/\\]+?)\.csv(?:\.gz)?$"
)


def parse_filename(path: Path | str) -> TardisFile:
    """Split a client-named file into its parts; unknown data types are rejected here, early."""
    p = Path(path)
    m = _NAME.match(p.name)
    if m is None:
        raise TardisFileError(
            p,
            None,
            "file name does not follow the tardis-dev naming "
            "{exchange}_{data_type}_{YYYY-MM-DD}_{SYMBOL}.csv[.gz]",
        )
    data_type = m["data_type"]
    if data_type not in DATA_TYPES:
        raise TardisFileError(
            p, None, f"unknown data type {data_type!r}; known: {', '.join(DATA_TYPES)}"
        )
    try:
        day = date.fromisoformat(m["day"])
    except ValueError:
        raise TardisFileError(p, None, f"invalid date {m['day']!r} in file name") from None
    return TardisFile(m["exchange"], data_type, day, m["symbol"], p)


def find_input(
    inputs_dir: Path | str, exchange: str, data_type: str, day: date, symbol: str
) -> Path | None:
    """The user's file for one partition, preferring the client's ``.csv.gz`` over a ``.csv``."""
    base = Path(inputs_dir)
    for gz in (True, False):
        candidate = base / tardis_filename(exchange, data_type, day, symbol, gz=gz)
        if candidate.is_file():
            return candidate
    return None


def lake_path(lake_root: Path | str, data_type: str, exchange: str, symbol: str, day: date) -> Path:
    """One Parquet file per (type, exchange, symbol, day), hive-keyed by folder names."""
    return (
        Path(lake_root)
        / data_type
        / f"exchange={exchange}"
        / f"symbol={file_symbol(symbol)}"
        / f"date={day.isoformat()}"
        / "part-0.parquet"
    )
