"""Turn gateway results into the llm_signals and llm_partition_stats frames.

``available_at`` (from the gateway) is simulated time: the window's end, when a live system would
have asked, plus the latency the model really took. The wall-clock request time would make every
historical signal untradable; the window end alone would pretend models answer instantly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime

import polars as pl

from tardis_assets.lib.features.windows import Window
from tardis_assets.lib.llm import GatewayReport, SignalResult

US = pl.Datetime("us", "UTC")

SIGNAL_SCHEMA = {
    "exchange": pl.String,
    "symbol": pl.String,
    "bar_start": US,
    "kind": pl.String,
    "value": pl.Float64,
    "confidence": pl.Float64,
    "label": pl.String,
    "status": pl.String,
    "model": pl.String,
    "model_cutoff": pl.Date,
    "available_at": US,
    "request_hash": pl.String,
}


def signals_frame(windows: Sequence[Window], results: Sequence[SignalResult]) -> pl.DataFrame:
    if len(windows) != len(results):
        raise ValueError(f"{len(results)} results for {len(windows)} windows")
    rows = []
    for window, result in zip(windows, results, strict=True):
        if (window.symbol, window.start_us) != (result.symbol, result.bar_start_us):
            raise ValueError(f"result for {result.symbol}@{result.bar_start_us} out of order")
        rows.append(
            {
                "exchange": window.exchange,
                "symbol": window.symbol,
                "bar_start": window.start_us,
                "kind": result.kind,
                "value": result.value,
                "confidence": result.confidence,
                "label": result.label,
                "status": result.status,
                "model": result.model,
                "model_cutoff": result.model_cutoff,
                "available_at": result.available_at_us if result.status == "ok" else None,
                "request_hash": result.request_hash,
            }
        )
    return pl.DataFrame(
        rows, schema={**SIGNAL_SCHEMA, "bar_start": pl.Int64, "available_at": pl.Int64}
    ).with_columns(pl.col("bar_start", "available_at").cast(US))


def partition_stats_frame(
    day: date, kind: str, report: GatewayReport, paid_cost: Mapping[str, float]
) -> pl.DataFrame:
    """What the latest materialization of (day, kind) needed and cost, one row per model.

    ``paid_cost`` maps a request hash to what it cost when first paid (from the ledger), which is
    what a cache hit saved. Per model, so costs and savings can be reported by model and provider.
    """
    now = datetime.now(UTC)
    groups: dict[str, dict] = {}
    for result, row in zip(report.results, report.ledger, strict=True):
        model = result.model or row.model_returned or row.model_requested or "none"
        g = groups.setdefault(
            model,
            {
                "provider": row.provider,
                "requests": 0,
                "ok": 0,
                "cache_hits": 0,
                "http_calls": 0,
                "not_sent": 0,
                "cost_usd": 0.0,
                "cache_savings_usd": 0.0,
                "tokens_in": 0,
                "tokens_out": 0,
                "latencies": [],
            },
        )
        g["requests"] += 1
        g["ok"] += result.status == "ok"
        g["not_sent"] += row.attempts == 0 and not row.cache_hit
        if row.cache_hit:
            g["cache_hits"] += 1
            g["cache_savings_usd"] += paid_cost.get(row.request_hash, 0.0)
        else:
            g["http_calls"] += row.attempts
            g["cost_usd"] += row.cost_usd
            g["tokens_in"] += row.tokens_in or 0
            g["tokens_out"] += row.tokens_out or 0
            if row.attempts:
                g["latencies"].append(row.latency_ms)
    records = []
    for model, g in sorted(groups.items()):
        lat = pl.Series(g.pop("latencies"), dtype=pl.Float64)
        records.append(
            {
                "date": day,
                "kind": kind,
                "model": model,
                **g,
                "failed": g["requests"] - g["ok"],
                "latency_p50_ms": lat.quantile(0.5) if len(lat) else None,
                "latency_p95_ms": lat.quantile(0.95) if len(lat) else None,
                "materialized_at": now,
            }
        )
    return pl.DataFrame(records, schema=STATS_SCHEMA)


STATS_SCHEMA = {
    "date": pl.Date,
    "kind": pl.String,
    "model": pl.String,
    "provider": pl.String,
    "requests": pl.Int64,
    "ok": pl.Int64,
    "failed": pl.Int64,
    "cache_hits": pl.Int64,
    "http_calls": pl.Int64,
    "not_sent": pl.Int64,
    "cost_usd": pl.Float64,
    "cache_savings_usd": pl.Float64,
    "tokens_in": pl.Int64,
    "tokens_out": pl.Int64,
    "latency_p50_ms": pl.Float64,
    "latency_p95_ms": pl.Float64,
    "materialized_at": pl.Datetime("us", "UTC"),
}
