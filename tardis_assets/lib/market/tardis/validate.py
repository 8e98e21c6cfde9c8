"""Row rules of each tardis type: one definition, rendered as SQL or evaluated on Arrow batches.

``checks_for`` is the one list of rules. Each ``Check`` says what it tests in data (``Fault``, the
column, the allowed values or bounds), so every evaluator renders the same rule: ``condition``
as SQL for the scans here, ``arrow_rules`` as vectorized compute over the batches of the fast
path. Scan: ``scan_and_check`` reads a freshly written (not yet published) Parquet file;
``file_row_number`` maps the first bad row straight back to its CSV line (row order is
preserved), which a parallel CSV scan cannot tell. One scan evaluates every rule and also yields
the row count and time range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from pathlib import Path

import duckdb

from tardis_assets.lib.days import day_bounds_us
from tardis_assets.lib.market.tardis.errors import TardisFileError
from tardis_assets.lib.market.tardis.schemas import ALLOWED_VALUES, Kind, Rule, columns
from tardis_assets.lib.sql import quote_ident, sql_string


class Fault(Enum):
    """What a check finds in a bad row; a row whose tested value is NULL is not bad (except for
    MISSING, which tests exactly that), as in SQL."""

    MISSING = "missing"  # NULL in a required column
    NON_FINITE = "non_finite"  # NaN or +-inf in a number column
    NON_POSITIVE = "non_positive"  # <= 0 (prices)
    NEGATIVE = "negative"  # < 0 (amounts)
    NOT_ALLOWED = "not_allowed"  # a value outside ``Check.allowed``
    OUTSIDE = "outside"  # outside the half-open range ``Check.bounds``


@dataclass(frozen=True)
class Check:
    fault: Fault
    column: str
    reason: str  # "{value}" is filled with the offending value
    allowed: tuple[str, ...] = ()  # NOT_ALLOWED: the values a row may hold
    bounds: tuple[int, int] = (0, 0)  # OUTSIDE: [low, high)

    @property
    def condition(self) -> str:
        """The rule as SQL, true for a bad row."""
        q = quote_ident(self.column)
        if self.fault is Fault.MISSING:
            return f"{q} IS NULL"
        if self.fault is Fault.NON_FINITE:
            return f"NOT isfinite({q})"
        if self.fault is Fault.NON_POSITIVE:
            return f"{q} <= 0"
        if self.fault is Fault.NEGATIVE:
            return f"{q} < 0"
        if self.fault is Fault.NOT_ALLOWED:
            return f"{q} NOT IN ({', '.join(sql_string(v) for v in self.allowed)})"
        lo, hi = self.bounds
        return f"{q} < {lo} OR {q} >= {hi}"


@dataclass(frozen=True)
class ScanSummary:
    rows: int
    min_timestamp: int | None
    max_timestamp: int | None


def checks_for(data_type: str, day: date | None) -> list[Check]:
    out: list[Check] = []
    allowed = ALLOWED_VALUES.get(data_type, {})
    for col in columns(data_type):
        name = col.name
        if col.required:
            out.append(Check(Fault.MISSING, name, f"empty value in column {name}"))
        if col.kind is Kind.NUMBER:
            out.append(Check(Fault.NON_FINITE, name, f"non-finite number {{value}} in {name}"))
        if col.rule is Rule.PRICE:
            out.append(
                Check(Fault.NON_POSITIVE, name, f"non-positive price {{value}} in column {name}")
            )
        elif col.rule is Rule.AMOUNT:
            out.append(Check(Fault.NEGATIVE, name, f"negative amount {{value}} in column {name}"))
        if name in allowed:
            out.append(
                Check(
                    Fault.NOT_ALLOWED,
                    name,
                    f"invalid {name} {{value}} (allowed: {', '.join(allowed[name])})",
                    allowed=allowed[name],
                )
            )
    if day is not None:
        out.append(
            Check(
                Fault.OUTSIDE,
                "local_timestamp",
                f"local_timestamp {{value}} is outside {day.isoformat()} UTC "
                "(tardis files are split by local_timestamp): file for another date?",
                bounds=day_bounds_us(day),
            )
        )
    return out


def scan_and_check(
    con: duckdb.DuckDBPyConnection,
    parquet: Path,
    data_type: str,
    day: date | None,
    report_path: Path,
    line_offset: int = 2,
) -> ScanSummary:
    """Validate every row of ``parquet``; raise for the earliest bad row (line = row + offset)."""
    checks = checks_for(data_type, day)
    src = "read_parquet($p, file_row_number = true)"
    firsts = ", ".join(
        f"min(file_row_number) FILTER (WHERE {c.condition}) AS c{i}" for i, c in enumerate(checks)
    )
    sql = f"SELECT count(*), min(timestamp), max(timestamp), {firsts} FROM {src}"
    row = con.sql(sql, params={"p": str(parquet)}).fetchall()[0]
    rows, tmin, tmax = int(row[0]), row[1], row[2]
    bad = [(r, i) for i, r in enumerate(row[3:]) if r is not None]
    if bad:
        first_row, idx = min(bad)
        check = checks[idx]
        value = con.sql(
            f"SELECT {quote_ident(check.column)}::VARCHAR FROM {src} WHERE file_row_number = $r",
            params={"p": str(parquet), "r": first_row},
        ).fetchall()[0][0]
        total = con.sql(
            f"SELECT count(*) FROM read_parquet($p) WHERE {check.condition}",
            params={"p": str(parquet)},
        ).fetchall()[0][0]
        reason = check.reason.format(value=value if value is not None else "(empty)")
        if total > 1:
            reason += f" ({total} rows break this rule; first shown)"
        raise TardisFileError(report_path, int(first_row) + line_offset, reason)
    if rows == 0:
        raise TardisFileError(report_path, 2, "empty: header only, no data rows")
    return ScanSummary(rows, tmin, tmax)
