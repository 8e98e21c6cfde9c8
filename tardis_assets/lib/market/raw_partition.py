"""One raw partition (a tardis data type, a UTC day, every configured instrument): validate, then
publish.

Each instrument's source (the user's tardis file, a download, or the synthetic market) is
ingested into a staging file next to its lake file and measured there. Only when every instrument
of the day passed every blocking rule (the file rules of the ingest, then the quality rules:
order, duplicates, day bounds, counts) are the staging files renamed over the lake files; a
failure publishes nothing and leaves the previous version byte-identical. The message names the
file, the first offending line and the count.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from tardis_assets.lib.errors import MissingInputError
from tardis_assets.lib.market.tables import RAW_QUALITY
from tardis_assets.lib.market.tardis import TardisFileError, find_input, ingest_file, lake_path
from tardis_assets.lib.market.tardis.inflate import InflateLimits
from tardis_assets.lib.market.tardis.naming import tardis_filename
from tardis_assets.lib.market.tardis.quality import QualityReport, quality_report
from tardis_assets.lib.quality.rules import Finding, QualityRules, Severity

# Writes one (type, exchange, symbol, day) of synthetic data to a staging Parquet file; returns
# the IngestResult, or None when the synthetic market has no such type.
SyntheticWriter = Callable[[str, str, str, date, Path], object | None]
Downloader = Callable[[str, str, str, date], Path | None]


@dataclass
class StagedFile:
    """One instrument's file of the partition, validated but not yet published."""

    exchange: str
    symbol: str
    dest: Path
    staging: Path | None  # None: the type is absent for this instrument today
    source: str  # 'file', 'synthetic' or 'absent'
    input_path: Path | None = None
    rows: int = 0
    min_timestamp: int | None = None
    max_timestamp: int | None = None
    report: QualityReport | None = None
    warnings: list[Finding] = field(default_factory=list)
    notes: tuple[str, ...] = ()  # what the ingest log says about an accepted file

    @property
    def instrument(self) -> str:
        return f"{self.exchange}:{self.symbol}"


def _judge(staged: StagedFile, data_type: str, day: date, rules: QualityRules) -> None:
    """Measure the staging file; raise for the first blocking rule broken, keep the warnings."""
    assert staged.staging is not None
    report = quality_report(staged.staging, data_type, day)
    where = f"{staged.instrument} {data_type} {day}"
    findings = rules.judge(
        "raw",
        staged.instrument,
        report.values(),
        where=where,
        data_type=data_type,
        details=report.details(),
    )
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors:
        first = errors[0]
        path = staged.input_path or staged.dest
        raise TardisFileError(
            path,
            report.first_line(first.rule.name),
            # the line is named once, in the error's own prefix
            "; ".join(f.reason(detail=f is not first) for f in errors),
            remedy=(
                "Fix or re-download the file, or relax the rule in tardis_assets.toml under "
                f'[quality.instruments."{staged.instrument}".raw] if this is normal for the '
                "instrument; then materialize the partition again."
            ),
        )
    staged.report = report
    staged.warnings = findings


def stage_instrument(
    *,
    data_type: str,
    exchange: str,
    symbol: str,
    day: date,
    lake: Path,
    inputs: Path,
    run_id: str,
    rules: QualityRules,
    synthetic: SyntheticWriter | None,
    download: Downloader | None = None,
    limits: InflateLimits | None = None,
) -> StagedFile:
    """Ingest and judge one instrument's file (or generate it) into a staging file.

    ``limits`` bound how far a gzip input may inflate (``InflateLimits()`` when not given).
    """
    dest = lake_path(lake, data_type, exchange, symbol, day)
    # Not named *.parquet, so the lake views' glob can never see a half-published partition.
    staging = dest.with_name(f".{dest.stem}.{run_id}.staging")
    source = find_input(inputs, exchange, data_type, day, symbol)
    if source is None and download is not None:
        source = download(data_type, exchange, symbol, day)
    staged = StagedFile(exchange, symbol, dest, staging, "file", source)
    try:
        if source is not None:
            result = ingest_file(source, data_type, staging, day=day, limits=limits)
            staged.notes = result.notes
        else:
            result = synthetic(data_type, exchange, symbol, day, staging) if synthetic else None
            if result is None and synthetic is None:
                expected = inputs / tardis_filename(exchange, data_type, day, symbol)
                raise MissingInputError(
                    f"no {data_type} file for {exchange}:{symbol} on {day}: {expected} does not "
                    "exist and synthetic data is off (real-data configuration)",
                    remedy="Put the tardis-dev file there, enable downloads "
                    "(TARDIS_DOWNLOAD=on with TARDIS_API_KEY), or set "
                    "synthetic_when_missing = true under [market].",
                    facts={"file": str(expected), "instrument": f"{exchange}:{symbol}"},
                )
            if result is None:
                # No file and no generator: the type is absent that day; features leave its
                # columns null, and publishing removes an older file at dest.
                return StagedFile(exchange, symbol, dest, None, "absent")
            staged.source = "synthetic"
        staged.rows = result.rows  # type: ignore[attr-defined]
        staged.min_timestamp = result.min_timestamp  # type: ignore[attr-defined]
        staged.max_timestamp = result.max_timestamp  # type: ignore[attr-defined]
        _judge(staged, data_type, day, rules)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    return staged


def discard(staged: Sequence[StagedFile]) -> None:
    """Remove every staging file (a failure of any instrument publishes nothing)."""
    for item in staged:
        if item.staging is not None:
            item.staging.unlink(missing_ok=True)


def publish(staged: Sequence[StagedFile]) -> None:
    """Rename every staging file over its lake file; remove lake files of absent types."""
    for item in staged:
        if item.staging is None:
            item.dest.unlink(missing_ok=True)
        else:
            os.replace(item.staging, item.dest)


def files_frame(data_type: str, day: date, staged: Sequence[StagedFile]) -> pl.DataFrame:
    """The partition's rows of the ingest log ``raw_files``."""
    now = datetime.now(UTC)
    return pl.DataFrame(
        [
            {
                "data_type": data_type,
                "exchange": s.exchange,
                "symbol": s.symbol,
                "date": day,
                "source": s.source,
                "input_path": str(s.input_path) if s.input_path else None,
                "lake_path": None if s.staging is None else str(s.dest),
                "rows": s.rows,
                "min_timestamp": s.min_timestamp,
                "max_timestamp": s.max_timestamp,
                "ingested_at": now,
            }
            for s in staged
        ],
        schema_overrides={"min_timestamp": pl.Int64, "max_timestamp": pl.Int64},
    )


def quality_frame(data_type: str, day: date, staged: Sequence[StagedFile]) -> pl.DataFrame:
    """The partition's rows of ``raw_quality`` (files that were measured)."""
    rows = []
    for s in staged:
        if s.report is None:
            continue
        r = s.report
        rows.append(
            {
                "data_type": data_type,
                "date": day,
                "exchange": s.exchange,
                "symbol": s.symbol,
                **r.values(),
                "silence_start": r.longest_gap_start,
                "silence_end": r.longest_gap_end,
                "findings": "; ".join(f.sentence() for f in s.warnings),
            }
        )
    return pl.DataFrame(rows, schema=RAW_QUALITY.polars_schema) if rows else RAW_QUALITY.empty()
