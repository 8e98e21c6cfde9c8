"""Signal layer: LLM sentiment / pattern / risk per bar window, partitioned by day x kind."""

import time
from collections import Counter
from datetime import date

import dagster as dg
import polars as pl

from tardis_assets.defs.partitions import by_date, daily_by_kind
from tardis_assets.defs.resources import LLMResource, MarketResource, WarehouseResource
from tardis_assets.defs.support.context import partition_label
from tardis_assets.defs.support.failures import RETRY, expected_failures
from tardis_assets.defs.support.metadata import time_range_metadata
from tardis_assets.lib.errors import BadInputError, MissingInputError
from tardis_assets.lib.features.tables import BARS
from tardis_assets.lib.features.windows import Window, windows
from tardis_assets.lib.llm import (
    STATUSES,
    GatewayReport,
    SignalRequest,
    ledger_frame,
    run_signals,
)
from tardis_assets.lib.market.tables import NEWS
from tardis_assets.lib.signal_tables import partition_stats_frame, signals_frame
from tardis_assets.lib.tables import LLM_CALLS, LLM_PARTITION_RUNS, LLM_SIGNALS
from tardis_assets.lib.warehouse import Warehouse

PROGRESS_EVERY_S = 5.0
LLM_POOL = "llm"


def load_windows(wh: Warehouse, day: date, window_minutes: int, bar_seconds: int) -> list[Window]:
    bars = wh.read_partition(BARS, {"date": day})
    if bars is None:
        return []
    news = wh.read_partition(NEWS, {"date": day})
    if news is None:
        news = NEWS.empty()
    return windows(
        bars.sort("exchange", "symbol", "bar_start"),
        news.sort("published_at", maintain_order=True),
        window_minutes,
        bar_seconds,
    )


def requests_for(kind: str, items: list[Window]) -> list[SignalRequest]:
    return [
        SignalRequest(
            kind=kind,
            exchange=w.exchange,
            symbol=w.symbol,
            bar_start_us=w.start_us,
            window_us=w.window_us,
            features=w.features,
            headlines=w.headlines,
        )
        for w in items
    ]


def paid_costs(wh: Warehouse, report: GatewayReport) -> dict[str, float]:
    """What each of this run's cache hits cost when it was paid (the ledger keeps paid calls)."""
    hits = sorted({r.request_hash for r in report.ledger if r.cache_hit})
    if not hits or not wh.table_exists("llm_calls"):
        return {}
    paid = wh.read(
        """SELECT request_hash, arg_max(cost_usd, requested_at_us) AS cost_usd FROM llm_calls
           WHERE status = 'ok' AND request_hash IN (SELECT unnest(?::VARCHAR[]))
           GROUP BY request_hash""",
        [hits],
    )
    return dict(paid.iter_rows())


class _ProgressLog:
    """Logs done/total, rate and cost at most every few seconds, so long partitions show life."""

    def __init__(self, context: dg.AssetExecutionContext, label: str) -> None:
        self.context, self.label = context, label
        self.started = self.last = time.monotonic()

    def __call__(self, progress) -> None:
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
        "LLM signals per bar window (table llm_signals) for one kind: news sentiment, price "
        "pattern or risk, each routed to its own model. Every answer is cached on disk the moment "
        "it arrives, so re-runs cost nothing; each call is in the llm_calls ledger."
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
        return _signal_partitions(context, keys, llm, market, warehouse)


def _signal_partitions(
    context: dg.AssetExecutionContext,
    keys: list[dg.MultiPartitionKey],
    llm: LLMResource,
    market: MarketResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    wh = warehouse.warehouse()
    if not keys:
        raise BadInputError("llm_signals needs (date, kind) partitions to run")
    totals: Counter[str] = Counter()
    cost = saved = 0.0
    latencies: list[float] = []
    stored: list[pl.DataFrame] = []
    # One gateway configuration (and stand-in server) for the whole range: single-run backfills
    # share the client pools, limiter state and cache.
    with llm.gateway_config() as config:
        for key in keys:
            day = date.fromisoformat(key.keys_by_dimension["date"])
            kind = key.keys_by_dimension["kind"]
            items = load_windows(wh, day, llm.window_minutes, market.bar_seconds)
            if not items:
                raise MissingInputError(
                    f"no bars for {day}", remedy="Materialize bars for that day first."
                )
            report = run_signals(
                config, requests_for(kind, items), on_progress=_ProgressLog(context, str(key))
            )
            # Spend first, in its own file: whatever fails after this point, what was paid is on
            # record (the retry would find only cache hits and could not reconstruct it). Each
            # step attempt writes its own ledger file, so a retry never overwrites it.
            paid = ledger_frame(r for r in report.ledger if not r.cache_hit)
            if paid.height:
                writer = f"{context.run.run_id}-{context.retry_number}"
                wh.write(
                    LLM_CALLS,
                    {"day": day, "kind": kind, "writer": writer},
                    paid.with_columns(writer=pl.lit(writer)),
                )
            signals = signals_frame(items, report.results).with_columns(date=pl.lit(day))
            stats = partition_stats_frame(day, kind, report, paid_costs(wh, report))
            wh.write(LLM_SIGNALS, {"date": day, "kind": kind}, signals)
            wh.write(
                LLM_PARTITION_RUNS,
                {"date": day, "kind": kind, "run_id": context.run.run_id},
                stats.with_columns(run_id=pl.lit(context.run.run_id)),
            )
            stored.append(signals.select("bar_start"))
            totals.update(signals["status"].to_list())
            totals["requests"] += len(items)
            totals["http_calls"] += report.http_requests
            totals["cache_hits"] += int(stats["cache_hits"].sum())
            totals["tokens_in"] += int(stats["tokens_in"].sum())
            totals["tokens_out"] += int(stats["tokens_out"].sum())
            cost += float(stats["cost_usd"].sum())
            saved += float(stats["cache_savings_usd"].sum())
            latencies += [r.latency_ms for r in report.ledger if not r.cache_hit]
    lat = pl.Series(latencies, dtype=pl.Float64)
    failures = {s: n for s, n in totals.items() if s != "ok" and s in STATUSES}
    return dg.MaterializeResult(
        metadata={
            "requests": dg.MetadataValue.int(totals["requests"]),
            "ok": dg.MetadataValue.int(totals["ok"]),
            "llm_calls": dg.MetadataValue.int(totals["http_calls"]),
            "cache_hits": dg.MetadataValue.int(totals["cache_hits"]),
            "cache_hit_rate": dg.MetadataValue.float(
                totals["cache_hits"] / totals["requests"] if totals["requests"] else 0.0
            ),
            "cost_usd": dg.MetadataValue.float(round(cost, 6)),
            "cache_savings_usd": dg.MetadataValue.float(round(saved, 6)),
            "tokens_in": dg.MetadataValue.int(totals["tokens_in"]),
            "tokens_out": dg.MetadataValue.int(totals["tokens_out"]),
            "latency_p50_ms": dg.MetadataValue.float(float(lat.quantile(0.5) or 0.0)),
            "latency_p95_ms": dg.MetadataValue.float(float(lat.quantile(0.95) or 0.0)),
            "failures": dg.MetadataValue.json(failures),
            **time_range_metadata(pl.concat(stored), "bar_start"),
        }
    )
