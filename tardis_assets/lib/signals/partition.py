"""The signal layer's one entry point per (day, kind) partition, Dagster-free.

`compute_partition` plans the day (planning.py), estimates it (no HTTP), runs the gateway online
or through the Batch API, and returns the `llm_signals` frame, this run's `llm_partition_stats`
frame, the estimate and, when coverage is below `min_ok_share`, the failure as a project error
whose `sentence()` is the one line to show. The ledger is not returned: every call this run sent
is already in the cache's journal (committed with its answers); rebuild the partition's ledger
with `ledger.ledger_rows(cache_path, day, kind)`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from tardis_assets.lib.errors import MissingInputError, TardisAssetsError
from tardis_assets.lib.llm import Answer, Gateway, GatewayConfig, GatewayReport, Progress
from tardis_assets.lib.llm.attempts import breaker_states
from tardis_assets.lib.llm.batch import run_batch, run_questions_batch
from tardis_assets.lib.llm.estimate import Estimate
from tardis_assets.lib.llm.runtime import run_in_loop
from tardis_assets.lib.signals.assemble import signals_frame
from tardis_assets.lib.signals.estimate import estimate_plans
from tardis_assets.lib.signals.failures import coverage_failure
from tardis_assets.lib.signals.planning import KindPlan, plan_kind
from tardis_assets.lib.signals.settings import SignalSettings
from tardis_assets.lib.signals.stats import RunFacts, stats_frame
from tardis_assets.lib.signals.windows import windows

MODES = ("online", "batch")


@dataclass
class SignalPartition:
    day: date
    kind: str
    run_id: str
    signals: pl.DataFrame  # tables.LLM_SIGNALS: one row per window
    stats: pl.DataFrame  # tables.LLM_PARTITION_STATS: one row per route model, this run
    estimate: Estimate  # what the run was expected to cost, computed before it
    calls: int  # calls this run sent (= its rows in the journal)
    cost_usd: float  # what they cost
    http_requests: int
    failure: TardisAssetsError | None  # coverage below min_ok_share: raise it, or show it

    def sentence(self) -> str | None:
        return self.failure.sentence() if self.failure else None


def _legacy_answers(report: GatewayReport) -> list[Answer]:
    answers = []
    for r, row in zip(report.results, report.ledger, strict=True):
        answers.append(
            Answer(
                key=r.request_hash,
                kind=r.kind,
                status=r.status,
                value=r.value,
                confidence=r.confidence,
                label=r.label,
                model=r.model,
                model_cutoff=r.model_cutoff,
                latency_ms=row.latency_ms,
                available_at_us=r.available_at_us,
                cache_hit=r.cache_hit,
                waited=False,
                error=r.error,
                model_requested=row.model_requested,
                paid_usd=0.0,
            )
        )
    return answers


async def _run(
    config: GatewayConfig,
    plan: KindPlan,
    settings: SignalSettings,
    run_id: str,
    mode: str,
    on_progress: Callable[[Progress], None] | None,
) -> tuple[list[Answer], RunFacts, int]:
    async with Gateway(config, run_id=run_id) as gw:
        if plan.design == "baseline":
            if mode == "batch":
                report = await run_batch(gw, plan.requests, settings.batch_poll_s)
            else:
                report = await gw.generate(plan.requests, on_progress)
            answers = _legacy_answers(report)
        elif mode == "batch":
            answers = (
                await run_questions_batch(gw, plan.questions, plan.pack_size, settings.batch_poll_s)
            ).answers
        else:
            answers = (await gw.ask(plan.questions, plan.pack_size, on_progress)).answers
        assert gw.sender is not None and gw.runner is not None
        states, opened = breaker_states(gw.sender)
        facts = RunFacts(run_id, mode, gw.runner.by_model, states, opened, gw.sender.last_error)
        return answers, facts, gw.http_requests


def compute_partition(
    gateway_config: GatewayConfig,
    settings: SignalSettings,
    bars: pl.DataFrame,
    news: pl.DataFrame,
    day: date,
    kind: str,
    run_id: str | None = None,
    mode: str = "online",
    min_ok_share: float = 0.95,
    on_progress: Callable[[Progress], None] | None = None,
) -> SignalPartition:
    """Signals for one (day, kind): bars of that day (with indicators) and its news."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    items = windows(bars, news, settings.window_minutes, settings.bar_seconds)
    if not items:
        raise MissingInputError(
            f"llm_signals {day}|{kind}: no bars for {day}", remedy="Materialize bars first."
        )
    run_id = run_id or uuid.uuid4().hex[:16]
    plan = plan_kind(kind, items, settings, day)
    estimate = estimate_plans(gateway_config, [plan])
    answers, facts, http = run_in_loop(
        lambda: _run(gateway_config, plan, settings, run_id, mode, on_progress)
    )
    signals = signals_frame(plan, answers, settings.sentiment_half_life_minutes)
    usd = estimate.usd_batch if mode == "batch" else estimate.usd_online
    stats = stats_frame(gateway_config, plan, answers, facts, round(usd, 12))
    return SignalPartition(
        day=day,
        kind=kind,
        run_id=run_id,
        signals=signals,
        stats=stats,
        estimate=estimate,
        calls=int(stats["calls"].sum()),
        cost_usd=float(stats["cost_usd"].sum()),
        http_requests=http,
        failure=coverage_failure(stats, min_ok_share),
    )
