"""What settled units become: legacy SignalResults and LedgerRows, and Answers to Questions.

A cache hit keeps the answer's own latency: a legacy answer keeps its stored available_at (so
backtests of the original design are reproducible); a packed answer becomes available at its
question's asked_at plus the latency recorded when it was paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from tardis_assets.lib.llm import contracts as c
from tardis_assets.lib.llm.guard import bar_date
from tardis_assets.lib.llm.planning import Outcome, Planner, Unit
from tardis_assets.lib.llm.retry import redact
from tardis_assets.lib.llm.usage import Spend

if TYPE_CHECKING:
    from tardis_assets.lib.llm.calls import CallRunner


def _cutoff(planner: Planner, record: dict[str, Any]) -> date:
    model = planner.routing.models.get(record["model_id"])
    return model.cutoff if model else date.fromisoformat(record["model_cutoff"])


def latency_us_of(record: dict[str, Any], unit: Unit) -> int:
    if "latency_us" in record:
        return int(record["latency_us"])
    return int(record["available_at_us"]) - unit.bar_start_us - unit.window_us


def signal_result(planner: Planner, unit: Unit, out: Outcome) -> c.SignalResult:
    req = unit.request
    assert req is not None
    record = out.record
    if record is None:
        return c.SignalResult(
            req.kind, req.exchange, req.symbol, req.bar_start_us, out.status, None, None, None,
            None, None, None, unit.key, out.cache_hit, out.error,
        )  # fmt: skip
    return c.SignalResult(
        req.kind, req.exchange, req.symbol, req.bar_start_us, c.STATUS_OK, record["value"],
        record["confidence"], record["label"], record["model_id"], _cutoff(planner, record),
        record["available_at_us"], unit.key, out.cache_hit, None,
    )  # fmt: skip


def ledger_row(planner: Planner, unit: Unit, out: Outcome, secrets: list[str]) -> c.LedgerRow:
    spend = out.spend or Spend()
    error = spend.error_text()
    answered = out.answered_by
    return c.LedgerRow(
        request_hash=unit.key,
        kind=unit.kind,
        provider=planner.provider_of(answered or unit.chain[0]),
        model_requested=unit.chain[0].id,
        model_returned=out.record.get("model_returned") if out.record else None,
        tokens_in=spend.tokens_in,
        tokens_out=spend.tokens_out,
        cost_usd=round(spend.cost_usd, 10),
        estimated=spend.estimated,
        latency_ms=round(out.latency_ms, 3),
        attempts=spend.attempts,
        cache_hit=out.cache_hit,
        status=out.status,
        error=redact(error, secrets) if error else None,
        requested_at_us=out.requested_at_us,
        day=bar_date(unit.bar_start_us),
    )


def duplicate_of(result: c.SignalResult, row: c.LedgerRow) -> tuple[c.SignalResult, c.LedgerRow]:
    """A duplicate inside the run: answered by the first occurrence, costs nothing."""
    hit = result.status == c.STATUS_OK
    dup = c.SignalResult(**{**result.__dict__, "cache_hit": hit})
    free = c.LedgerRow(
        **{
            **row.__dict__,
            "tokens_in": 0,
            "tokens_out": 0,
            "cost_usd": 0.0,
            "attempts": 0,
            "latency_ms": 0.0,
            "cache_hit": hit,
            "estimated": False,
        }
    )
    return dup, free


def answer(
    planner: Planner, unit: Unit, out: Outcome, asked_at_us: int, duplicate: bool
) -> c.Answer:
    record = out.record
    if record is None:
        return c.Answer(
            unit.key, unit.kind, out.status, None, None, None, None, None, None, None,
            False, False, out.error, unit.chain[0].id, 0.0,
        )  # fmt: skip
    latency_us = latency_us_of(record, unit)
    fresh = not (out.cache_hit or duplicate)
    available = out.available_at_us if fresh and out.available_at_us else asked_at_us + latency_us
    return c.Answer(
        key=unit.key,
        kind=unit.kind,
        status=c.STATUS_OK,
        value=record["value"],
        confidence=record["confidence"],
        label=record["label"],
        model=record["model_id"],
        model_cutoff=_cutoff(planner, record),
        latency_ms=latency_us / 1000,
        available_at_us=available,
        cache_hit=out.cache_hit or duplicate,
        waited=out.waited,
        error=None,
        model_requested=unit.chain[0].id,
        paid_usd=float(record.get("cost_usd") or 0.0),
    )


def legacy_report(
    planner: Planner, order: list[str], units: dict[str, Unit], secrets: list[str], http: int
) -> c.GatewayReport:
    """Results and ledger rows in request order; duplicates answered by their first."""
    out_results: list[c.SignalResult] = []
    ledger: list[c.LedgerRow] = []
    first: dict[str, tuple[c.SignalResult, c.LedgerRow]] = {}
    for key in order:
        if key in first:
            dup, free = duplicate_of(*first[key])
            out_results.append(dup)
            ledger.append(free)
            continue
        unit = units[key]
        assert unit.outcome is not None
        pair = (
            signal_result(planner, unit, unit.outcome),
            ledger_row(planner, unit, unit.outcome, secrets),
        )
        first[key] = pair
        out_results.append(pair[0])
        ledger.append(pair[1])
    return c.GatewayReport(
        results=out_results,
        ledger=ledger,
        http_requests=http,
        cache_hits=sum(1 for r in out_results if r.cache_hit),
        cost_usd=round(sum(r.cost_usd for r in ledger), 10),
        not_sent=sum(1 for r in ledger if r.status == c.STATUS_BUDGET_EXHAUSTED),
    )


def ask_report(
    planner: Planner,
    questions: Sequence[c.Question],
    planned: list[Unit],
    units: dict[str, Unit],
    runner: CallRunner,
    breakers: dict[str, str],
    opened: dict[str, int],
    last_error: str | None,
    http: int,
    run_id: str,
) -> c.AskReport:
    """Answers in question order and what the run sent (its journal rows)."""
    seen: set[str] = set()
    answers = []
    for q, unit in zip(questions, planned, strict=True):
        owner = units[unit.key]
        assert owner.outcome is not None
        answers.append(answer(planner, owner, owner.outcome, q.asked_at_us, unit.key in seen))
        seen.add(unit.key)
    rows = runner.journaled
    return c.AskReport(
        answers=answers,
        calls=len(rows),
        http_requests=http,
        cache_hits=sum(1 for a in answers if a.cache_hit),
        waited=sum(1 for a in answers if a.waited),
        cost_usd=round(sum(r.cost_usd for r in rows), 10),
        not_sent=sum(1 for a in answers if a.status == c.STATUS_BUDGET_EXHAUSTED),
        by_model=runner.by_model,
        breakers=breakers,
        breakers_opened=opened,
        last_error=last_error,
        run_id=run_id,
    )
