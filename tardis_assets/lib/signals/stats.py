"""The per-run `llm_partition_stats` rows of one (day, kind): one row per model of the route.

Questions are attributed to the model that answered them, failures to the route's primary; cost
and tokens to the model that was paid. Partition-level facts (windows, budgets, last provider
error, the estimate) repeat on every row, so one run's rows alone explain a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from tardis_assets.lib.llm import Answer, GatewayConfig, ModelTotals
from tardis_assets.lib.llm.contracts import STATUS_BUDGET_EXHAUSTED, STATUS_OK
from tardis_assets.lib.llm.providers import ROUTING
from tardis_assets.lib.llm.routing import load_routing
from tardis_assets.lib.signals.planning import KindPlan
from tardis_assets.lib.signals.tables import LLM_PARTITION_STATS, STATUS_COUNTS


@dataclass
class RunFacts:
    """What the gateway knew at the end of a run (beyond the answers)."""

    run_id: str
    transport: str
    by_model: dict[str, ModelTotals] = field(default_factory=dict)
    breakers: dict[str, str] = field(default_factory=dict)
    breakers_opened: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return float(pl.Series(values, dtype=pl.Float64).quantile(q) or 0.0)


def stats_frame(
    config: GatewayConfig,
    plan: KindPlan,
    answers: Sequence[Answer],
    facts: RunFacts,
    estimate_usd: float | None,
) -> pl.DataFrame:
    routing = load_routing(config.routing_path)
    route = routing.chain_for(plan.kind, dict(config.routes or {}))
    chain = list(route.chain)
    for a in answers:
        for name in (a.model, a.model_requested):
            if name and name not in chain:
                chain.append(name)
    now = datetime.now(UTC)
    windows = len(plan.rows)
    rows = []
    for position, name in enumerate(chain):
        mine = [
            a for a in answers if (a.model if a.status == STATUS_OK else a.model_requested) == name
        ]
        totals = facts.by_model.get(name, ModelTotals())
        info = routing.models.get(name)
        counts = {s: sum(1 for a in mine if a.status == s) for s in STATUS_COUNTS}
        ok = sum(1 for a in mine if a.status == STATUS_OK)
        rows.append(
            {
                "date": plan.day,
                "kind": plan.kind,
                "run_id": facts.run_id,
                "model": name,
                "provider": info.provider
                if (info and config.provider == ROUTING)
                else config.provider,
                "design": plan.design,
                "transport": facts.transport,
                "windows": windows,
                "asked_windows": plan.asked_windows,
                "requests": len(mine),
                "ok": ok,
                "failed": len(mine) - ok,
                **counts,
                "cache_hits": sum(1 for a in mine if a.cache_hit),
                "waited": sum(1 for a in mine if a.waited),
                "http_calls": totals.attempts,
                "calls": totals.calls,
                "not_sent": sum(1 for a in mine if a.status == STATUS_BUDGET_EXHAUSTED),
                "cost_usd": round(totals.cost_usd, 12),
                "cache_savings_usd": round(sum(a.paid_usd for a in mine if a.cache_hit), 12),
                "tokens_in": totals.tokens_in,
                "tokens_cached": totals.tokens_cached,
                "tokens_out": totals.tokens_out,
                "latency_p50_ms": _quantile(totals.latencies_ms, 0.5),
                "latency_p95_ms": _quantile(totals.latencies_ms, 0.95),
                "chain_position": position,
                "model_cutoff": info.cutoff if info else None,
                "breaker_state": facts.breakers.get(name, "closed"),
                "breaker_opened": facts.breakers_opened.get(name, 0),
                "last_error": facts.last_error,
                "budget_run_usd": config.budget_run_usd,
                "budget_day_usd": config.budget_day_usd,
                "allow_in_sample": config.allow_in_sample,
                "estimate_usd": estimate_usd,
                "materialized_at": now,
            }
        )
    return LLM_PARTITION_STATS.conform(
        pl.DataFrame(rows, schema=LLM_PARTITION_STATS.polars_schema, orient="row")
    )
