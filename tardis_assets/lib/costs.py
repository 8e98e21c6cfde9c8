"""LLM cost reporting: DuckDB views over the ledger and the per-partition stats, and the table the
CLI and the costs asset print.

Spend comes from ``llm_calls``: one row per call ever sent to a provider, with what it cost,
dated by when it was sent. Cache hits and savings come from ``llm_partition_latest`` (the latest
run of each partition): what it served from the cache, dated by that run.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import polars as pl

from tardis_assets.lib.storage.catalog import View

if TYPE_CHECKING:
    from tardis_assets.lib.warehouse import Warehouse

GROUPINGS = ("day", "kind", "model", "provider")

_COST_BY_MODEL = """
    WITH spend AS (
        SELECT CAST(make_timestamp(requested_at_us) AS DATE) AS day, kind, provider,
               coalesce(model_returned, model_requested) AS model,
               count(*) AS calls, sum(attempts) AS http_attempts,
               count(*) FILTER (WHERE status NOT IN ('ok', 'partial')) AS failed,
               sum(tokens_in) AS tokens_in, sum(tokens_cached) AS tokens_cached,
               sum(tokens_out) AS tokens_out, sum(cost_usd) AS cost_usd
        FROM llm_calls GROUP BY ALL),
    saved AS (
        SELECT CAST(materialized_at AT TIME ZONE 'UTC' AS DATE) AS day, kind, provider, model,
               sum(cache_hits) AS cache_hits, sum(cache_savings_usd) AS cache_savings_usd
        FROM llm_partition_latest GROUP BY ALL)
    SELECT day, kind, provider, model,
           coalesce(calls, 0) AS calls, coalesce(http_attempts, 0) AS http_attempts,
           coalesce(failed, 0) AS failed, coalesce(tokens_in, 0) AS tokens_in,
           coalesce(tokens_cached, 0) AS tokens_cached,
           coalesce(tokens_out, 0) AS tokens_out, coalesce(cost_usd, 0) AS cost_usd,
           coalesce(cache_hits, 0) AS cache_hits,
           coalesce(cache_savings_usd, 0) AS cache_savings_usd
    FROM spend FULL OUTER JOIN saved USING (day, kind, provider, model)"""
_COST_DAILY = """
    SELECT day, sum(calls) AS calls, sum(http_attempts) AS http_attempts, sum(failed) AS failed,
           sum(tokens_in) AS tokens_in, sum(tokens_cached) AS tokens_cached,
           sum(tokens_out) AS tokens_out, sum(cost_usd) AS cost_usd,
           sum(cache_hits) AS cache_hits, sum(cache_savings_usd) AS cache_savings_usd
    FROM llm_cost_by_model GROUP BY day"""

COST_VIEWS = (
    View(
        "llm_cost_by_model",
        lambda: _COST_BY_MODEL,
        needs=("llm_calls", "llm_partition_latest"),
    ),
    View("llm_cost_daily", lambda: _COST_DAILY, needs=("llm_cost_by_model",)),
)


def cost_report(
    warehouse: Warehouse, *, by: str = "day", days: int | None = None, today: date | None = None
) -> pl.DataFrame:
    """Cost, calls, tokens, cache hits and savings grouped by ``by`` over the last ``days`` days."""
    if by not in GROUPINGS:
        raise ValueError(f"--by must be one of {', '.join(GROUPINGS)}, got {by!r}")
    if days is not None and days <= 0:
        raise ValueError(f"--days must be positive, got {days}")
    if not warehouse.table_exists("llm_calls"):
        raise LookupError(
            f"no LLM cost data in {warehouse.lake.root} yet: materialize llm_signals first"
        )
    since = (today or date.today()) - timedelta(days=days - 1) if days else date(1970, 1, 1)
    return warehouse.read(
        f"""SELECT {by}, sum(calls) AS calls, sum(failed) AS failed, sum(tokens_in) AS tokens_in,
                   sum(tokens_cached) AS tokens_cached, sum(tokens_out) AS tokens_out,
                   round(sum(cost_usd), 6) AS cost_usd,
                   sum(cache_hits) AS cache_hits,
                   round(sum(cache_savings_usd), 6) AS cache_savings_usd
            FROM llm_cost_by_model WHERE day >= ? GROUP BY {by} ORDER BY {by}""",
        [since],
    )


def format_costs(frame: pl.DataFrame) -> str:
    """Fixed-width text with a total row, for the terminal and the asset's metadata.

    Counts and money are summed; text columns and percentiles (which do not add up) stay blank.
    """
    if frame.is_empty():
        return "no LLM calls in the selected period"
    cells = [["" if v is None else str(v) for v in row] for row in frame.rows()]
    total = []
    for i, (name, dtype) in enumerate(frame.schema.items()):
        if i == 0:
            total.append("total")
        elif dtype.is_numeric() and not name.startswith("p"):
            value = float(frame[name].sum())
            total.append(str(int(value)) if value.is_integer() else str(round(value, 6)))
        else:
            total.append("")
    cells.append(total)
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(frame.columns)]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) for v, w in zip(values, widths, strict=True))

    return "\n".join([line(frame.columns), line(["-" * w for w in widths]), *map(line, cells)])


def llm_stats(warehouse: Warehouse) -> pl.DataFrame:
    """Calls, failures, cost, cache hits and p50/p95 latency of sent calls by kind and model."""
    if not warehouse.table_exists("llm_calls"):
        raise LookupError(
            f"no LLM calls in {warehouse.lake.root} yet: materialize llm_signals first"
        )
    return warehouse.read(
        """WITH sent AS (
               SELECT kind, coalesce(model_returned, model_requested) AS model, count(*) AS calls,
                      count(*) FILTER (WHERE status NOT IN ('ok', 'partial')) AS failed,
                      round(sum(cost_usd), 6) AS cost_usd,
                      round(quantile_cont(latency_ms, 0.5) FILTER (WHERE attempts > 0), 1)
                          AS p50_ms,
                      round(quantile_cont(latency_ms, 0.95) FILTER (WHERE attempts > 0), 1)
                          AS p95_ms
               FROM llm_calls GROUP BY ALL),
           hits AS (
               SELECT kind, model, sum(cache_hits) AS cache_hits,
                      round(sum(cache_savings_usd), 6) AS cache_savings_usd
               FROM llm_partition_latest GROUP BY ALL)
           SELECT kind, model, coalesce(calls, 0) AS calls, coalesce(failed, 0) AS failed,
                  coalesce(cost_usd, 0) AS cost_usd, coalesce(cache_hits, 0) AS cache_hits,
                  coalesce(cache_savings_usd, 0) AS cache_savings_usd, p50_ms, p95_ms
           FROM sent FULL OUTER JOIN hits USING (kind, model) ORDER BY kind, model"""
    )
