"""Quality findings as one Dagster check result: ERROR blocks, WARN records and lets through."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from tardis_assets.lib.quality.rules import Finding, Severity, worst


def check_result(
    findings: list[Finding], metadata: Mapping[str, object], empty: str | None = None
) -> dg.AssetCheckResult:
    """Passed when nothing is found; otherwise failed with the worst severity found, and the
    findings' sentences as the description the UI and the CLI show. ``empty`` is the sentence
    of a check that found nothing to judge (which fails as an error)."""
    if empty is not None:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=empty,
            metadata=dict(metadata),
        )
    level = worst(findings)
    severity = (
        dg.AssetCheckSeverity.ERROR if level is Severity.ERROR else dg.AssetCheckSeverity.WARN
    )
    ordered = sorted(findings, key=lambda f: f.severity is not Severity.ERROR)
    return dg.AssetCheckResult(
        passed=not findings,
        severity=severity,
        description="; ".join(f.sentence() for f in ordered) or None,
        metadata={
            **metadata,
            "findings": "\n".join(f"[{f.severity.value}] {f.sentence()}" for f in ordered)
            or "none",
        },
    )
