"""The body every range-level report asset shares: compute, store by run id, describe.

A range asset (a sweep, walk-forward, a range backtest, Monte Carlo risk) loads its range,
computes an ``AssetReport`` with a library function, replaces its run's partition of every
report table, and returns the report's numbers and chart as metadata. Only the loading and the
library call differ, so they are the arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import dagster as dg

from tardis_assets.defs.support.metadata import plain_metadata, png_markdown
from tardis_assets.lib.errors import BadInputError

if TYPE_CHECKING:
    from tardis_assets.lib.backtest.reports import AssetReport
    from tardis_assets.lib.warehouse import Warehouse


def store_report(
    wh: Warehouse, report: AssetReport, run_id: str, label: str, prefix: str = ""
) -> None:
    """Replace this run's partition in every table of the report.

    ``prefix`` keeps reports with different columns apart (the LLM sweep's parameters are not
    the moving-average sweep's)."""
    import polars as pl

    from tardis_assets.lib.backtest.tables import REPORT_TABLES

    for name, frame in report.tables.items():
        table = REPORT_TABLES[prefix + name]
        wh.write(table, {"run_id": run_id}, frame.with_columns(pl.lit(label).alias("range")))


def range_report(
    wh: Warehouse,
    *,
    label: str,
    run_id: str,
    compute: Callable[[], AssetReport],
    prefix: str = "",
) -> AssetReport:
    """Compute and store one report; a library refusal (ValueError) is bad input for the range."""
    try:
        report = compute()
    except ValueError as exc:
        raise BadInputError(f"{label}: {exc}") from exc
    store_report(wh, report, run_id, label, prefix)
    return report


def report_result(
    report: AssetReport,
    label: str,
    chart: tuple[str, str],
    extra: Mapping[str, dg.MetadataValue] | None = None,
    skip: tuple[str, ...] = (),
) -> dg.MaterializeResult:
    """Metadata of a range report: the range, every number, one chart (key, title)."""
    numbers = {k: v for k, v in report.metadata.items() if k not in skip}
    key, title = chart
    return dg.MaterializeResult(
        metadata={
            "range": dg.MetadataValue.text(label),
            **plain_metadata(numbers),
            **(extra or {}),
            key: png_markdown(report.png, title),
        }
    )
