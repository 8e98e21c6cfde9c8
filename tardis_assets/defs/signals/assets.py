"""Signal layer: LLM sentiment / pattern / risk per bar window, partitioned by day x kind.

The asset only wires ``lib.signals.compute_partition``: it reads the day's bars and news,
writes the three frames and reports. Spend is written first and last: every call the gateway
sends is journaled in the cache in the same commit as its answer, and the partition's ledger
file is rebuilt from that journal before the run (so a retry, or a run after a crash, records
what earlier attempts paid before anything else can fail) and after it.
"""

import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from tardis_assets.defs.partitions import by_date, daily_by_kind
from tardis_assets.defs.resources import LLMResource, MarketResource, WarehouseResource
from tardis_assets.defs.support.context import llm_mode, partition_label
from tardis_assets.defs.support.failures import RETRY, expected_failures
from tardis_assets.defs.support.metadata import time_range_metadata
from tardis_assets.lib.errors import BadInputError, MissingInputError
from tardis_assets.lib.llm import Progress

if TYPE_CHECKING:
    import polars as pl

    from tardis_assets.lib.signals import SignalPartition
    from tardis_assets.lib.warehouse import Warehouse

PROGRESS_EVERY_S = 5.0
LLM_POOL = "llm"


def day_inputs(wh: "Warehouse", day: date) -> "tuple[pl.DataFrame, pl.DataFrame]":
    """The day's bars (every instrument, in time order) and news; bars must exist."""
    from tardis_assets.lib.features.tables import BARS
    from tardis_assets.lib.market.tables import NEWS

    bars = wh.read_partition(BARS, {"date": day})
    if bars is None or bars.is_empty():
        raise MissingInputError(f"no bars for {day}", remedy="Materialize bars for that day first.")
    news = wh.read_partition(NEWS, {"date": day})
    news = NEWS.empty() if news is None else news.sort("published_at", maintain_order=True)
    return bars.sort("exchange", "symbol", "bar_start"), news


def write_ledger(wh: "Warehouse", cache_path: Path, day: date, kind: str) -> int:
    """Rebuild the (day, kind) ledger file from the cache's journal; returns its rows.

    A journal that lost its rows (the cache file was deleted) never empties a ledger that had
    some: what was paid stays on record.
    """
    from tardis_assets.lib.signals import LLM_CALLS, ledger_rows

    rows = ledger_rows(cache_path, day, kind)
    key = {"day": day, "kind": kind}
    if rows.is_empty():
        stored = wh.read_partition(LLM_CALLS, key)
        if stored is not None and stored.height:
            return stored.height
    wh.write(LLM_CALLS, key, rows)
    return rows.height


class _ProgressLog:
    """Logs done/total, rate and cost at most every few seconds, so long partitions show life."""

    def __init__(self, context: dg.AssetExecutionContext, label: str) -> None:
        self.context, self.label = context, label
        self.started = self.last = time.monotonic()

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_S and progress.done < progress.total:
            return
        self.last = now
        rate = progress.done / max(now - self.started, 1e-9)
        self.context.log.info(
            f"{self.label}: {progress.done}/{progress.total} requests, {rate:.0f}/s, "
            f"cost so far ${progress.cost_usd:.4f}"
        )


@dg.asset(
    partitions_def=daily_by_kind,
    deps=[
        dg.AssetDep("bars", partition_mapping=by_date),
        dg.AssetDep("news", partition_mapping=by_date),
    ],
    group_name="signals",
    kinds={"llm", "parquet"},
    # Each run's gateway rate-limits its own calls; the pool bounds how many runs call the
    # providers at once, so parallel partitions cannot multiply the provider's rate limit.
    pool=LLM_POOL,
    retry_policy=RETRY,
    automation_condition=dg.AutomationCondition.eager(),
    backfill_policy=dg.BackfillPolicy.single_run(),
    description=(
        "LLM signals per bar window (table llm_signals) for one kind: news sentiment per "
        "headline (paid once per story, aggregated per window), price pattern and risk on a "
        "cadence, each routed to its own model. Every paid answer is cached and journaled the "
        "moment it arrives (ledger llm_calls); re-runs and concurrent runs never pay twice."
    ),
)
def llm_signals(
    context: dg.AssetExecutionContext,
    llm: LLMResource,
    market: MarketResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    keys = [daily_by_kind.get_partition_key_from_str(str(k)) for k in context.partition_keys]
    with expected_failures("llm_signals", partition_label(context)):
        if not keys:
            raise BadInputError("llm_signals needs (date, kind) partitions to run")
        parts = _signal_partitions(context, keys, llm, market, warehouse)
    return dg.MaterializeResult(metadata=_metadata(parts))


def _signal_partitions(
    context: dg.AssetExecutionContext,
    keys: list[dg.MultiPartitionKey],
    llm: LLMResource,
    market: MarketResource,
    warehouse: WarehouseResource,
) -> "list[SignalPartition]":
    from tardis_assets.lib.signals import LLM_PARTITION_STATS, LLM_SIGNALS, compute_partition

    wh = warehouse.warehouse()
    settings = llm.signal_settings(market.bar_seconds)
    mode = llm_mode(context, llm.batch)
    parts = []
    # One gateway configuration (and stand-in server) for the whole range: single-run backfills
    # share the client pools, limiter state and cache.
    with llm.gateway_config() as config:
        for key in keys:
            day = date.fromisoformat(key.keys_by_dimension["date"])
            kind = key.keys_by_dimension["kind"]
            bars, news = day_inputs(wh, day)
            write_ledger(wh, config.cache_path, day, kind)  # what earlier attempts paid
            part = compute_partition(
                config,
                settings,
                bars,
                news,
                day,
                kind,
                run_id=context.run.run_id,
                mode=mode,
                min_ok_share=llm.min_ok_share,
                on_progress=_ProgressLog(context, str(key)),
            )
            write_ledger(wh, config.cache_path, day, kind)
            wh.write(LLM_SIGNALS, {"date": day, "kind": kind}, part.signals)
            wh.write(
                LLM_PARTITION_STATS,
                {"date": day, "kind": kind, "run_id": context.run.run_id},
                part.stats,
            )
            if part.failure is not None:
                # Stored as data (metadata "failure"); the coverage check blocks with the
                # sentence, which the CLI prints once: the log only points at it.
                context.log.warning(
                    f"{key}: coverage below min_ok_share {llm.min_ok_share:g}; the check "
                    "llm_signals_coverage blocks the layers below with the reason"
                )
            parts.append(part)
    return parts


def _metadata(parts: "list[SignalPartition]") -> dict[str, dg.MetadataValue]:
    import polars as pl

    stats = pl.concat([p.stats for p in parts])
    signals = pl.concat([p.signals for p in parts])
    requests = int(stats["requests"].sum())
    hits = int(stats["cache_hits"].sum())
    latency = stats.filter(pl.col("latency_p50_ms").is_not_null())
    statuses = signals.group_by("status").len().sort("status")
    return {
        "windows": dg.MetadataValue.int(signals.height),
        "asked_windows": dg.MetadataValue.int(int(stats["asked_windows"].max() or 0)),
        "requests": dg.MetadataValue.int(requests),
        "ok": dg.MetadataValue.int(int(stats["ok"].sum())),
        "llm_calls": dg.MetadataValue.int(sum(p.calls for p in parts)),
        "http_requests": dg.MetadataValue.int(sum(p.http_requests for p in parts)),
        "cache_hits": dg.MetadataValue.int(hits),
        "cache_hit_rate": dg.MetadataValue.float(hits / requests if requests else 0.0),
        "cost_usd": dg.MetadataValue.float(round(sum(p.cost_usd for p in parts), 6)),
        "estimate_usd": dg.MetadataValue.float(round(sum(p.estimate.usd_online for p in parts), 6)),
        "estimate_batch_usd": dg.MetadataValue.float(
            round(sum(p.estimate.usd_batch for p in parts), 6)
        ),
        "cache_savings_usd": dg.MetadataValue.float(
            round(float(stats["cache_savings_usd"].sum()), 6)
        ),
        "tokens_in": dg.MetadataValue.int(int(stats["tokens_in"].sum())),
        "tokens_cached": dg.MetadataValue.int(int(stats["tokens_cached"].sum())),
        "tokens_out": dg.MetadataValue.int(int(stats["tokens_out"].sum())),
        "latency_p50_ms": dg.MetadataValue.float(
            float(latency["latency_p50_ms"].max() or 0.0) if latency.height else 0.0
        ),
        "latency_p95_ms": dg.MetadataValue.float(
            float(latency["latency_p95_ms"].max() or 0.0) if latency.height else 0.0
        ),
        "statuses": dg.MetadataValue.json(dict(statuses.iter_rows())),
        "failure": dg.MetadataValue.text(
            "; ".join(p.sentence() for p in parts if p.failure) or "none"
        ),
        **time_range_metadata(signals, "bar_start"),
    }
