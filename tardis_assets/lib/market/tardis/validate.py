"""Row rules of each tardis type, as SQL, evaluated inline (fast path) or by a scan (precise path).

Inline: ``row_filter_sql`` aborts the COPY on the first bad row at the cost of one vectorized
expression. Scan: ``scan_and_check`` reads a freshly written (not yet published) Parquet file;
``file_row_number`` maps the first bad row straight back to its CSV line (row order is
preserved), which a parallel CSV scan cannot tell. One scan evaluates every rule and also yields
the row count and time range.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from tardis_assets.lib.days import day_bounds_us
from tardis_assets.lib.market.tardis.errors import TardisFileError
from tardis_assets.lib.market.tardis.schemas import ALLOWED_VALUES, Kind, Rule, columns


@dataclass(frozen=True)
class Check:
    condition: str  # SQL, true for a bad row
    column: str
    reason: str  # "{value}" is filled with the offending value


@dataclass(frozen=True)
class ScanSummary:
    rows: int
    min_timestamp: int | None
    max_timestamp: int | None


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def checks_for(data_type: str, day: date | None) -> list[Check]:
    out: list[Check] = []
    allowed = ALLOWED_VALUES.get(data_type, {})
    for col in columns(data_type):
        q = quote_ident(col.name)
        if col.required:
            out.append(Check(f"{q} IS NULL", col.name, f"empty value in column {col.name}"))
        if col.kind is Kind.NUMBER:
            out.append(
                Check(f"NOT isfinite({q})", col.name, f"non-finite number {{value}} in {col.name}")
            )
        if col.rule is Rule.PRICE:
            out.append(
                Check(f"{q} <= 0", col.name, f"non-positive price {{value}} in column {col.name}")
            )
        elif col.rule is Rule.AMOUNT:
            out.append(
                Check(f"{q} < 0", col.name, f"negative amount {{value}} in column {col.name}")
            )
        if col.name in allowed:
            values = ", ".join("'" + v + "'" for v in allowed[col.name])
            out.append(
                Check(
                    f"{q} NOT IN ({values})",
                    col.name,
                    f"invalid {col.name} {{value}} (allowed: {', '.join(allowed[col.name])})",
                )
            )
    if day is not None:
        lo, hi = day_bounds_us(day)
        out.append(
            Check(
                f"local_timestamp < {lo} OR local_timestamp >= {hi}",
                "local_timestamp",
                f"local_timestamp {{value}} is outside {day.isoformat()} UTC "
                "(tardis files are split by local_timestamp): file for another date?",
            )
        )
    return out


def row_filter_sql(data_type: str, day: date | None) -> str:
    """A WHERE clause that aborts the query on the first row breaking any rule.

    Used on the fast path: the rules cost one vectorized expression inside the COPY instead of a
    second scan. It cannot say which row failed; on failure the caller redoes the file on the
    precise path, where ``scan_and_check`` names the line.
    """
    conds = " OR ".join(f"({c.condition})" for c in checks_for(data_type, day))
    return f"CASE WHEN {conds} THEN error('tardis row rule broken') ELSE true END"


def summary_from_metadata(con: duckdb.DuckDBPyConnection, parquet: Path) -> ScanSummary:
    """Row count and timestamp range from the Parquet footer (row-group statistics), no scan."""
    rows = con.sql(
        "SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata($p)",
        params={"p": str(parquet)},
    ).fetchall()[0][0]
    tmin, tmax = con.sql(
        "SELECT min(TRY_CAST(stats_min_value AS BIGINT)), max(TRY_CAST(stats_max_value AS BIGINT)) "
        "FROM parquet_metadata($p) WHERE path_in_schema = 'timestamp'",
        params={"p": str(parquet)},
    ).fetchall()[0]
    if rows and (tmin is None or tmax is None):  # a writer that kept no statistics
        tmin, tmax = con.sql(
            "SELECT min(timestamp), max(timestamp) FROM read_parquet($p)",
            params={"p": str(parquet)},
        ).fetchall()[0]
    return ScanSummary(int(rows), tmin, tmax)


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
