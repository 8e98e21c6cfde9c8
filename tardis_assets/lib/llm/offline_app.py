"""The stand-in's ASGI app: chat completions with latency, faults, prompt caching and
idempotent replay, plus the Batch API routes (offline_batch) and test hooks.

Idempotency: a chat request whose Idempotency-Key the server already answered with a clean 200
gets that completion again, with the header `idempotent-replayed: true`, and is not billed again
(faulted answers are not remembered, so a retry really retries). Every request is logged with
its usage and whether it was billed, so tests can compare the ledger with the server's bill.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tardis_assets.lib.llm import offline_batch
from tardis_assets.lib.llm.offline_answers import (
    PrefixCache,
    check_request,
    completion,
    prompt_text,
)
from tardis_assets.lib.llm.offline_faults import COMPUTED, Faults, retry_after_headers

REPLAY_MEMORY = 200_000  # idempotency keys remembered (oldest forgotten first)


@dataclass
class State:
    latency_s: float
    faults: Faults
    rng: random.Random
    chat_requests: int = 0
    closing: bool = False
    inflight: dict[str, int] = field(default_factory=dict)
    max_inflight: dict[str, int] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: int = 0
    prefixes: PrefixCache = field(default_factory=PrefixCache)
    replay: OrderedDict[str, dict[str, Any]] = field(default_factory=OrderedDict)


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "offline_fault", "code": status}},
        status_code=status,
        headers=headers,
    )


async def _chat(state: State, request: Request) -> Response:
    arrived = time.time()
    try:
        body = json.loads(await request.body())
    except json.JSONDecodeError:
        return error(400, "request body is not JSON")
    model = str(body.get("model", ""))
    key = request.headers.get("idempotency-key")
    entry: dict[str, Any] = {
        "t": arrived,
        "model": model,
        "key": key,
        # Which credential was used, without storing it.
        "auth_sha": hashlib.sha256(request.headers.get("authorization", "").encode()).hexdigest()[
            :16
        ],
        "replayed": False,
        "billed": False,
        "usage": None,
    }
    state.chat_requests += 1
    state.log.append(entry)
    if key is not None and key in state.replay:
        entry["fault"] = None
        entry["replayed"] = True
        entry["usage"] = state.replay[key]["usage"]
        return JSONResponse(state.replay[key], headers={"idempotent-replayed": "true"})
    fault = state.faults.draw(state.rng, model)
    entry["fault"] = fault
    cached = 0
    if fault in COMPUTED:
        try:
            cached = state.prefixes.observe(model, prompt_text(check_request(body)))
        except ValueError:
            cached = 0
    now_inflight = state.inflight.get(model, 0) + 1
    state.inflight[model] = now_inflight
    state.max_inflight[model] = max(state.max_inflight.get(model, 0), now_inflight)
    try:
        return await _answer(state, request, body, model, fault, cached, entry)
    finally:
        state.inflight[model] -= 1


async def _answer(
    state: State,
    request: Request,
    body: dict[str, Any],
    model: str,
    fault: str | None,
    cached: int,
    entry: dict[str, Any],
) -> Response:
    faults = state.faults
    if state.latency_s > 0:
        await asyncio.sleep(state.latency_s)
    if fault == "down":
        headers = None
        if faults.down_retry_after_s is not None:
            headers = retry_after_headers(faults.down_retry_after_s, "seconds")
        return error(503, f"model {model} is unavailable", headers)
    if fault == "429":
        return error(
            429, "rate limited", retry_after_headers(faults.retry_after_s, faults.retry_after_style)
        )
    if fault == "500":
        detail = "internal error"
        if faults.echo_auth_in_errors:
            detail += f" (request had authorization {request.headers.get('authorization')})"
        return error(500, detail)
    if fault == "timeout":
        # Hang in short naps so a stopping server does not wait (or log) for hung requests.
        deadline = time.monotonic() + faults.hang_s
        while time.monotonic() < deadline and not state.closing:
            await asyncio.sleep(0.02)
        if state.closing:
            return error(503, "server shutting down")
    try:
        result, content = completion(body, state.chat_requests, cached)
    except (ValueError, KeyError, TypeError) as exc:
        return error(400, f"cannot answer: {exc}")
    entry["usage"] = result["usage"]
    entry["billed"] = True
    packed = fault is None and len(json.loads(content).get("items", [])) > 1
    if packed and faults.rate_bad_item and state.rng.random() < faults.rate_bad_item:
        answer = json.loads(content)
        broken = answer["items"][-1]
        broken["score" if "score" in broken else "signal"] = 9.0
        result["choices"][0]["message"]["content"] = json.dumps(answer, sort_keys=True)
        fault = entry["fault"] = "bad_item"
    if fault is None and request.headers.get("idempotency-key"):
        state.replay[request.headers["idempotency-key"]] = result
        if len(state.replay) > REPLAY_MEMORY:
            state.replay.popitem(last=False)
    if fault == "malformed":
        text = json.dumps(result)
        return Response(text[: len(text) // 2], media_type="application/json")
    return JSONResponse(_corrupt(result, content, fault) if fault else result)


def _corrupt(result: dict[str, Any], content: str, fault: str) -> dict[str, Any]:
    if fault == "truncated":
        result["choices"][0]["message"]["content"] = content[: len(content) // 2]
        result["choices"][0]["finish_reason"] = "length"
    if fault == "missing_usage":
        del result["usage"]
    if fault == "bad_value":
        answer = json.loads(content)
        target = answer["items"][0] if "items" in answer else answer
        if "signal" in target:
            target["signal"] = "STRONG_BUY"
        else:
            target["score"] = 7.5
        result["choices"][0]["message"]["content"] = json.dumps(answer)
    return result


def build_app(state: State) -> ASGIApp:
    """The ASGI app; all state lives in `state` (one per server)."""

    async def chat(request: Request) -> Response:
        return await _chat(state, request)

    async def models(_: Request) -> Response:
        return JSONResponse(
            {"object": "list", "data": [{"id": "offline-rules", "object": "model"}]}
        )

    async def stats(_: Request) -> Response:
        return JSONResponse(
            {
                "chat_requests": state.chat_requests,
                "max_inflight": state.max_inflight,
                "log": state.log,
                "uploads": state.uploads,
                "batches": len(state.batches),
            }
        )

    async def set_faults(request: Request) -> Response:
        state.faults = Faults.from_json((await request.body()).decode())
        state.rng = random.Random(state.faults.seed)
        return JSONResponse({"ok": True})

    inner = Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            *offline_batch.routes(state),
            Route("/_stats", stats, methods=["GET"]),
            Route("/_faults", set_faults, methods=["POST"]),
        ]
    )

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        # The hot route skips Starlette's routing and middleware: the stand-in shares two cores
        # with the client in the benchmark, so its CPU per request matters.
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == "/v1/chat/completions"
        ):
            response = await chat(Request(scope, receive))
            await response(scope, receive, send)
            return
        await inner(scope, receive, send)

    return app
