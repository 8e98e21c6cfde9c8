"""Batch path for backfills: OpenAI Batch API JSONL in, answers into the same cache.

Old days do not need answers within a second, and providers bill batch jobs at a discount
(`batch_discount` in the routing table, typically half). The flow: plan like the online path
(dedupe, guard, cache lookup), reserve the batch-priced worst case against the budget, write one
JSONL line per missing call (custom_id = the call's idempotency key for the primary eligible
model), upload it (`/files`), create the batch (`/batches`), poll, download the output file and
import every valid answer into the cache with its journal row, in one commit.

Resume: the uploaded file id and then the batch id are recorded in the cache (`batches`, keyed by
the provider and the set of lines) the moment they are known. A run that crashed between upload
and completion plans the same lines again, finds the record and polls the same batch (or creates
it from the uploaded file): nothing is uploaded or paid twice. Items of a packed line that fail
are parse errors until the next run asks them again (a batch has no second round).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tardis_assets.lib.errors import ProviderError
from tardis_assets.lib.llm import contracts as c
from tardis_assets.lib.llm.attempts import record_of
from tardis_assets.lib.llm.cache import Commit, now_us
from tardis_assets.lib.llm.client import parse_completion
from tardis_assets.lib.llm.gateway import Gateway
from tardis_assets.lib.llm.journal import STATUS_PARTIAL, JournalRow
from tardis_assets.lib.llm.planning import Call, Outcome, Unit
from tardis_assets.lib.llm.providers import ProviderConfigError
from tardis_assets.lib.llm.retry import AttemptError
from tardis_assets.lib.llm.routing import ModelInfo
from tardis_assets.lib.llm.runtime import run_in_loop
from tardis_assets.lib.llm.schemas import Parsed, SchemaError
from tardis_assets.lib.llm.usage import Spend, estimated_usage, price

TERMINAL = {"completed", "failed", "expired", "cancelled"}


class BatchError(ProviderError):
    """The provider rejected or failed the batch; the message names the batch and status."""


async def _check(resp: Any, what: str) -> Any:
    if resp.status_code != 200:
        raise BatchError(f"{what}: HTTP {resp.status_code}: {resp.text[:200]}")
    return resp.json()


def _today():
    from datetime import UTC, datetime

    return datetime.now(UTC).date()


async def send_calls(
    gw: Gateway,
    calls: Sequence[Call],
    poll_interval_s: float = 5.0,
    timeout_s: float = 86_400.0,
    jsonl_dir: Path | None = None,
) -> None:
    """Answer `calls` through the Batch API (resuming a recorded batch); settles their units."""
    if not gw.endpoint.provider.supports_batch:
        raise ProviderConfigError(f"provider {gw.endpoint.provider.name!r} has no Batch API")
    assert gw.budget is not None and gw.runner is not None
    pending: dict[str, tuple[Call, ModelInfo, float]] = {}
    lines: list[str] = []
    for call in calls:
        model = call.units[0].eligible[0]
        body = gw.planner.body(call, model)
        worst = model.cost(len(body), call.max_tokens, batch=True)
        if gw.budget.try_reserve(worst) is not True:
            for unit in call.units:
                gw.runner.settle(unit, Outcome(c.STATUS_BUDGET_EXHAUSTED, error="budget cap"))
            continue
        custom_id = call.idempotency_key(model)
        pending[custom_id] = (call, model, worst)
        line = {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
                "body": json.loads(body)}  # fmt: skip
        lines.append(json.dumps(line, separators=(",", ":")))
    if not pending:
        return
    submitted_us = now_us()
    t0 = time.monotonic()
    try:
        batch_id, output = await _submit_and_wait(gw, lines, poll_interval_s, timeout_s, jsonl_dir)
    finally:
        for _, _, worst in pending.values():
            gw.budget.release(worst)
    turnaround_us = int((time.monotonic() - t0) * 1e6)
    await _import(gw, output, pending, batch_id, submitted_us, turnaround_us)
    for custom_id, (call, _, _) in pending.items():
        for unit in call.units:
            if unit.outcome is None:
                gw.runner.settle(
                    unit,
                    Outcome(
                        c.STATUS_PROVIDER_ERROR,
                        error=f"batch output has no line for {custom_id[:12]}",
                    ),
                )


def _batch_key(identity: str, lines: list[str]) -> str:
    ids = sorted(json.loads(ln)["custom_id"] for ln in lines)
    return hashlib.sha256((identity + "|" + ",".join(ids)).encode()).hexdigest()


async def _submit_and_wait(
    gw: Gateway, lines: list[str], poll_interval_s: float, timeout_s: float, jsonl_dir: Path | None
) -> tuple[str, list[dict[str, Any]]]:
    http = gw.http
    identity = gw.endpoint.cache_identity
    batch_key = _batch_key(identity, lines)
    record = gw.cache.batch_record(batch_key) or {}
    file_id, batch_id = record.get("file_id"), record.get("batch_id")
    if record.get("status") == "imported":
        file_id = batch_id = None  # answers imported yet missing: the cache was pruned; ask again
    if file_id is None:
        payload = ("\n".join(lines) + "\n").encode("utf-8")
        name = f"signals-{batch_key[:16]}.jsonl"
        if jsonl_dir is not None:
            jsonl_dir.mkdir(parents=True, exist_ok=True)
            (jsonl_dir / name).write_bytes(payload)
        gw.sender.http_requests += 1  # type: ignore[union-attr]
        uploaded = await _check(
            await http.post(
                "files",
                data={"purpose": "batch"},
                files={"file": (name, payload, "application/jsonl")},
            ),
            "upload batch input",
        )
        file_id = uploaded["id"]
        gw.cache.record_batch(batch_key, identity, file_id, None, "uploaded")
    if batch_id is None:
        gw.sender.http_requests += 1  # type: ignore[union-attr]
        created = await _check(
            await http.post(
                "batches",
                json={
                    "input_file_id": file_id,
                    "endpoint": "/v1/chat/completions",
                    "completion_window": "24h",
                },
            ),
            "create batch",
        )
        batch_id = created["id"]
        gw.cache.record_batch(batch_key, identity, file_id, batch_id, "created")
    deadline = time.monotonic() + timeout_s
    while True:
        gw.sender.http_requests += 1  # type: ignore[union-attr]
        batch = await _check(await http.get(f"batches/{batch_id}"), "poll batch")
        if batch.get("status") in TERMINAL:
            break
        if time.monotonic() > deadline:
            raise BatchError(f"batch {batch_id} not done after {timeout_s:.0f} s")
        await asyncio.sleep(poll_interval_s)
    if batch["status"] != "completed" or not batch.get("output_file_id"):
        gw.cache.record_batch(batch_key, identity, file_id, batch_id, batch["status"])
        raise BatchError(f"batch {batch_id} ended with status {batch['status']!r}")
    gw.sender.http_requests += 1  # type: ignore[union-attr]
    resp = await http.get(f"files/{batch['output_file_id']}/content")
    if resp.status_code != 200:
        raise BatchError(f"download batch output: HTTP {resp.status_code}")
    gw.cache.record_batch(batch_key, identity, file_id, batch_id, "imported")
    return batch_id, [json.loads(ln) for ln in resp.text.splitlines() if ln.strip()]


async def _import(
    gw: Gateway,
    output: list[dict[str, Any]],
    pending: dict[str, tuple[Call, ModelInfo, float]],
    batch_id: str,
    submitted_us: int,
    turnaround_us: int,
) -> None:
    """Validate each output line; store valid answers and every line's journal row at once."""
    assert gw.budget is not None and gw.runner is not None
    commit = Commit(spend=None)
    settled: list[tuple[Unit, Outcome]] = []
    total = 0.0
    for line in output:
        key = line.get("custom_id")
        if key not in pending:
            continue
        call, model, _ = pending.pop(key)
        spend = Spend(attempts=1)
        parsed: list[Parsed | SchemaError] = []
        status = c.STATUS_PROVIDER_ERROR
        response = line.get("response") or {}
        chat = None
        if response.get("status_code") != 200:
            spend.errors.append(f"{model.id}: batch line failed: {line.get('error')}"[:200])
        else:
            try:
                chat = parse_completion(json.dumps(response.get("body")).encode())
                usage = chat.usage or estimated_usage(len(call.messages_json), chat.content)
                spend.add(model.id, usage, price(model, usage, batch=True))
                parsed = call.parse(chat.content)
                status = (
                    c.STATUS_OK if all(isinstance(p, Parsed) for p in parsed) else STATUS_PARTIAL
                )
            except (AttemptError, SchemaError) as exc:
                status = c.STATUS_PARSE_ERROR
                spend.errors.append(f"{model.id}: {exc}")
        share = spend.cost_usd / len(call.units)
        for unit, item in zip(call.units, parsed or [None] * len(call.units), strict=True):
            if isinstance(item, Parsed) and chat is not None:
                record = {**record_of(call, item, model, chat, turnaround_us, share), "batch": True}
                commit.answers.append((unit.keys[model.id], record))
                out = Outcome(c.STATUS_OK, record=record, spend=spend, answered_by=model,
                              latency_ms=turnaround_us / 1000, requested_at_us=submitted_us,
                              available_at_us=call.asked_at_us + turnaround_us)  # fmt: skip
            else:
                problem = str(item) if isinstance(item, SchemaError) else spend.error_text()
                failed = c.STATUS_PARSE_ERROR if isinstance(item, SchemaError) else status
                out = Outcome(failed, error=problem, spend=spend, requested_at_us=submitted_us)
            settled.append((unit, out))
        commit.journal.append(
            _row(gw, call, model, chat, status, spend, batch_id, submitted_us, turnaround_us)
        )
        gw.budget.settle(0.0, spend.cost_usd)
        total += spend.cost_usd
    commit.spend = (_today(), total)
    await gw.writer.write(commit)
    gw.budget.persisted(total)
    gw.runner.journaled.extend(commit.journal)
    for unit, out in settled:
        gw.runner.settle(unit, out)


def _row(gw: Gateway, call: Call, model: ModelInfo, chat: Any, status: str, spend: Spend,
         batch_id: str, submitted_us: int, turnaround_us: int) -> JournalRow:  # fmt: skip
    return JournalRow(
        call_id=uuid.uuid4().hex, day=call.day, kind=call.kind, run_id=gw.run_id, status=status,
        provider=gw.planner.provider_of(model), model_requested=call.units[0].chain[0].id,
        model_returned=chat.model if chat else None, items=len(call.units),
        unit_keys=tuple(u.key for u in call.units), tokens_in=spend.tokens_in,
        tokens_cached=spend.tokens_cached, tokens_out=spend.tokens_out,
        tokens_reasoning=spend.tokens_reasoning, cost_usd=round(spend.cost_usd, 12),
        estimated=spend.estimated, replayed=0, latency_ms=turnaround_us / 1000, attempts=1,
        transport="batch", batch_id=batch_id, error=spend.error_text(),
        usage_json="[" + ",".join(spend.usages) + "]" if spend.usages else None,
        requested_at_us=submitted_us,
    )  # fmt: skip


async def run_batch(
    gw: Gateway,
    requests: Sequence[c.SignalRequest],
    poll_interval_s: float = 5.0,
    timeout_s: float = 86_400.0,
    jsonl_dir: Path | None = None,
) -> c.GatewayReport:
    """Answer `requests` through the provider's Batch API; results in request order."""
    http_before = gw.http_requests
    order, units, calls = gw.plan_requests(requests)
    todo = {u.key for u in gw.screen(list(units.values()))}
    await send_calls(gw, [calls[k] for k in todo], poll_interval_s, timeout_s, jsonl_dir)
    return gw.legacy_report(order, units, http_before)


async def run_questions_batch(
    gw: Gateway,
    questions: Sequence[c.Question],
    pack_size: int = 1,
    poll_interval_s: float = 5.0,
    timeout_s: float = 86_400.0,
    jsonl_dir: Path | None = None,
) -> c.AskReport:
    """Answer Questions through the Batch API (packed like `Gateway.ask`)."""
    http_before = gw.http_requests
    planned, units = gw.plan_questions(questions)
    calls = gw.planner.group(gw.screen(list(units.values())), pack_size)
    await send_calls(gw, calls, poll_interval_s, timeout_s, jsonl_dir)
    return gw.ask_report(questions, planned, units, http_before)


def run_signals_batch(
    config: c.GatewayConfig,
    requests: Sequence[c.SignalRequest],
    poll_interval_s: float = 5.0,
    timeout_s: float = 86_400.0,
    jsonl_dir: Path | None = None,
) -> c.GatewayReport:
    """Synchronous batch entry point (same shape of report as `run_signals`)."""

    async def _go() -> c.GatewayReport:
        async with Gateway(config) as gw:
            return await run_batch(gw, requests, poll_interval_s, timeout_s, jsonl_dir)

    return run_in_loop(_go)


def ask_questions_batch(
    config: c.GatewayConfig,
    questions: Sequence[c.Question],
    pack_size: int = 1,
    run_id: str | None = None,
    poll_interval_s: float = 5.0,
    timeout_s: float = 86_400.0,
) -> c.AskReport:
    """Synchronous batch entry point for Questions."""

    async def _go() -> c.AskReport:
        async with Gateway(config, run_id=run_id) as gw:
            return await run_questions_batch(gw, questions, pack_size, poll_interval_s, timeout_s)

    return run_in_loop(_go)
