"""Batch path for backfills: OpenAI Batch API JSONL in, answers into the same cache.

Old days do not need answers within a second, and providers bill batch jobs at a discount
(`batch_discount` in the routing table, typically half). The flow: plan like the online path
(dedupe, guard, cache lookup), reserve the batch-priced worst case against the budget, write one
JSONL line per missing answer (custom_id = cache key of the primary eligible model), upload it
(`/files`), create the batch (`/batches`), poll, download the output file and import every
valid answer into the cache. Invalid or failed lines become failure statuses, never defaults.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tardis_assets.lib.llm import contracts as c
from tardis_assets.lib.llm.client import _parse_completion
from tardis_assets.lib.llm.gateway import Gateway, _now_us, _Spend, _today, _usage, run_in_loop
from tardis_assets.lib.llm.providers import ProviderError
from tardis_assets.lib.llm.retry import AttemptError
from tardis_assets.lib.llm.schemas import SchemaError, parse_answer

TERMINAL = {"completed", "failed", "expired", "cancelled"}


class BatchError(RuntimeError):
    """The provider rejected or failed the batch; the message names the batch and status."""


async def _check(resp: Any, what: str) -> Any:
    if resp.status_code != 200:
        raise BatchError(f"{what}: HTTP {resp.status_code}: {resp.text[:200]}")
    return resp.json()


async def run_batch(
    gw: Gateway,
    requests: Sequence[c.SignalRequest],
    poll_interval_s: float = 5.0,
    timeout_s: float = 86_400.0,
    jsonl_dir: Path | None = None,
) -> c.GatewayReport:
    """Answer `requests` through the provider's Batch API; results in request order."""
    if not gw.endpoint.provider.supports_batch:
        raise ProviderError(f"provider {gw.endpoint.provider.name!r} has no Batch API")
    assert gw.budget is not None
    http_before = gw.http_requests
    order, jobs, todo = gw.prepare(requests)
    lines: list[str] = []
    pending: dict[str, tuple[Any, Any, float]] = {}
    for job, eligible in todo:
        model = eligible[0]
        body = gw._body(model, job.req.kind, job.max_tokens, job.messages_json)
        worst = model.cost(len(body), job.max_tokens, batch=True)
        if gw.budget.try_reserve(worst) is not True:
            job.result = gw._result(job, c.STATUS_BUDGET_EXHAUSTED, error="budget cap")
            job.ledger = gw._ledger(
                job,
                c.STATUS_BUDGET_EXHAUSTED,
                _Spend(),
                model_returned=None,
                latency_ms=0.0,
                cache_hit=False,
                requested_at_us=_now_us(),
            )
            continue
        key = job.keys[model.id]
        pending[key] = (job, model, worst)
        lines.append(
            json.dumps(
                {
                    "custom_id": key,
                    "method": "POST",
                    "url": "/v1/chat/completions",
                    "body": json.loads(body),
                },
                separators=(",", ":"),
            )
        )
    if pending:
        submitted_us = _now_us()
        t0 = time.monotonic()
        try:
            output = await _submit_and_wait(gw, lines, poll_interval_s, timeout_s, jsonl_dir)
        finally:
            for _, _, worst in pending.values():
                gw.budget.release(worst)
        turnaround_us = int((time.monotonic() - t0) * 1e6)
        _import(gw, output, pending, submitted_us, turnaround_us)
        for key, (job, _, _) in pending.items():
            if job.result is None:
                job.result = gw._result(
                    job, c.STATUS_PROVIDER_ERROR, error=f"batch output has no line for {key[:12]}"
                )
                job.ledger = gw._ledger(
                    job,
                    c.STATUS_PROVIDER_ERROR,
                    _Spend(),
                    model_returned=None,
                    latency_ms=turnaround_us / 1000,
                    cache_hit=False,
                    requested_at_us=submitted_us,
                )
    report = gw._report(order, jobs, http_before)
    return report


async def _submit_and_wait(
    gw: Gateway,
    lines: list[str],
    poll_interval_s: float,
    timeout_s: float,
    jsonl_dir: Path | None,
) -> list[dict[str, Any]]:
    payload = ("\n".join(lines) + "\n").encode("utf-8")
    name = f"signals-{_now_us()}.jsonl"
    if jsonl_dir is not None:
        jsonl_dir.mkdir(parents=True, exist_ok=True)
        (jsonl_dir / name).write_bytes(payload)
    http = gw.http
    gw.http_requests += 1
    uploaded = await _check(
        await http.post(
            "files",
            data={"purpose": "batch"},
            files={"file": (name, payload, "application/jsonl")},
        ),
        "upload batch input",
    )
    gw.http_requests += 1
    batch = await _check(
        await http.post(
            "batches",
            json={
                "input_file_id": uploaded["id"],
                "endpoint": "/v1/chat/completions",
                "completion_window": "24h",
            },
        ),
        "create batch",
    )
    deadline = time.monotonic() + timeout_s
    while batch.get("status") not in TERMINAL:
        if time.monotonic() > deadline:
            raise BatchError(f"batch {batch.get('id')} not done after {timeout_s:.0f} s")
        await asyncio.sleep(poll_interval_s)
        gw.http_requests += 1
        batch = await _check(await http.get(f"batches/{batch['id']}"), "poll batch")
    if batch["status"] != "completed" or not batch.get("output_file_id"):
        raise BatchError(f"batch {batch.get('id')} ended with status {batch['status']!r}")
    gw.http_requests += 1
    resp = await http.get(f"files/{batch['output_file_id']}/content")
    if resp.status_code != 200:
        raise BatchError(f"download batch output: HTTP {resp.status_code}")
    return [json.loads(ln) for ln in resp.text.splitlines() if ln.strip()]


def _import(
    gw: Gateway,
    output: list[dict[str, Any]],
    pending: dict[str, tuple[Any, Any, float]],
    submitted_us: int,
    turnaround_us: int,
) -> None:
    """Validate each output line; store valid answers (batch price) in one transaction."""
    assert gw.budget is not None and gw._cache is not None
    items: list[tuple[str, dict[str, Any]]] = []
    total_cost = 0.0
    for line in output:
        key = line.get("custom_id")
        if key not in pending:
            continue
        job, model, _ = pending[key]
        spend = _Spend(attempts=1)
        status, record = c.STATUS_PROVIDER_ERROR, None
        response = line.get("response") or {}
        if response.get("status_code") != 200:
            spend.errors.append(f"{model.id}: batch line failed: {line.get('error')}"[:200])
        else:
            try:
                chat = _parse_completion(json.dumps(response.get("body")).encode())
                tin, tout, estimated = _usage(chat, len(job.messages_json))
                spend.tokens_in, spend.tokens_out, spend.estimated = tin, tout, estimated
                spend.cost_usd = model.cost(tin, tout, batch=True)
                parsed = parse_answer(job.req.kind, chat.content)
                req = job.req
                record = {
                    "value": parsed.value,
                    "confidence": parsed.confidence,
                    "label": parsed.label,
                    "model_id": model.id,
                    "model_returned": chat.model,
                    "model_cutoff": model.cutoff.isoformat(),
                    "available_at_us": req.bar_start_us + req.window_us + turnaround_us,
                    "latency_ms": turnaround_us / 1000,
                    "answered_at_us": _now_us(),
                    "batch": True,
                }
                status = c.STATUS_OK
                items.append((key, record))
            except (AttemptError, SchemaError) as exc:
                status = c.STATUS_PARSE_ERROR
                spend.errors.append(f"{model.id}: {exc}")
        gw.budget.settle(0.0, spend.cost_usd)
        total_cost += spend.cost_usd
        job.result = gw._result(job, status, record=record, error="; ".join(spend.errors) or None)
        job.ledger = gw._ledger(
            job,
            status,
            spend,
            model_returned=record["model_returned"] if record else None,
            latency_ms=turnaround_us / 1000,
            cache_hit=False,
            requested_at_us=submitted_us,
        )
    gw._cache.put_many(items, (_today(), total_cost))
    gw.budget.persisted(total_cost)


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
