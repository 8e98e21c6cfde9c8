"""Maker/taker fee table per exchange and instrument, loaded from a TOML data file.

Fees are data, not code: venues change schedules and users have their own tiers, so the numbers
live in ``fees.toml`` beside this module (same idea as ``lib/llm/routing.toml``) and a copy can be
passed instead. Rates are stored in basis points in the file and handed to the engine as
fractions of notional; a negative maker rate is a rebate.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

WILDCARD = "*"
MAX_ABS_BPS = 1_000.0  # 10% of notional: anything beyond is a typo, not a fee


@dataclass(frozen=True)
class FeeRates:
    """Fee rates as fractions of traded notional (``maker`` may be negative: a rebate)."""

    maker: float
    taker: float
    source: str = ""

    def __post_init__(self) -> None:
        for name in ("maker", "taker"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"fee {name} must be a number, got {value!r}")
            if not math.isfinite(value) or abs(value) * 1e4 > MAX_ABS_BPS:
                raise ValueError(f"fee {name} must be finite and within ±{MAX_ABS_BPS} bps")
        if self.taker < 0:
            raise ValueError(f"taker fee must be >= 0 (only maker fees may be rebates), got {self}")


@dataclass(frozen=True)
class FeeTable:
    """Rows keyed by (exchange, symbol); ``*`` matches any value (see `lookup`)."""

    rows: dict[tuple[str, str], FeeRates]
    path: str

    def lookup(self, exchange: str, symbol: str) -> FeeRates:
        """Rates of the most specific row: exact pair, then (exchange, *), then (*, *)."""
        for key in ((exchange, symbol), (exchange, WILDCARD), (WILDCARD, WILDCARD)):
            if key in self.rows:
                return self.rows[key]
        raise ValueError(
            f"fee table {self.path} has no row for exchange {exchange!r} symbol {symbol!r} "
            "and no default row (exchange = '*', symbol = '*')"
        )


def default_fees_path() -> Path:
    return Path(str(resources.files("tardis_assets.lib.execution") / "fees.toml"))


def load_fees(path: Path | str | None = None) -> FeeTable:
    """Parse and validate a fee table (the packaged ``fees.toml`` when ``path`` is None)."""
    where = Path(path) if path is not None else default_fees_path()
    try:
        data = tomllib.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"fee table not found: {where}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"fee table {where} is not valid TOML: {exc}") from None
    entries = data.get("fee")
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"fee table {where} needs [[fee]] rows")
    rows: dict[tuple[str, str], FeeRates] = {}
    for i, entry in enumerate(entries):
        missing = [k for k in ("exchange", "symbol", "maker_bps", "taker_bps") if k not in entry]
        if missing:
            raise ValueError(f"fee table {where}: row {i} lacks {missing}")
        key = (str(entry["exchange"]), str(entry["symbol"]))
        if key in rows:
            raise ValueError(f"fee table {where}: duplicate row for {key}")
        try:
            rows[key] = FeeRates(
                maker=_bps(entry["maker_bps"]) / 1e4,
                taker=_bps(entry["taker_bps"]) / 1e4,
                source=str(entry.get("note", "")),
            )
        except ValueError as exc:
            raise ValueError(f"fee table {where}: row {i} {key}: {exc}") from None
    return FeeTable(rows=rows, path=str(where))


def _bps(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"fee must be a number of bps, got {value!r}")
    return float(value)
