"""The `offline` provider: a real OpenAI-compatible HTTP server on loopback.

It answers `/v1/chat/completions` from the transparent rules in `offline_rules`, implements the
Batch API subset the gateway uses (`/v1/files`, `/v1/batches`, file content), and has knobs for
latency and injected faults so tests and the benchmark exercise the real client, retries and
breaker over real sockets. It runs under uvicorn in a background thread (tests) or in its own
process (benchmark, so the server does not share the client's GIL).
"""

from __future__ import annotations

import argparse
import asyncio
import email.parser
import email.policy
import hashlib
import json
import math
import random
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tardis_assets.lib.llm import offline_rules
from tardis_assets.lib.llm.prompts import parse_user_payload

FAULT_KINDS = ("429", "500", "timeout", "malformed", "truncated", "missing_usage", "bad_value")


@dataclass(frozen=True)
class Faults:
    """Per-attempt fault probabilities (drawn independently per chat request, seeded)."""

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_timeout: float = 0.0
    rate_malformed: float = 0.0
    rate_truncated: float = 0.0
    rate_missing_usage: float = 0.0
    # Valid JSON that breaks the schema (out-of-range score, unknown signal): what an obedient
    # model would answer to a prompt injection.
    rate_bad_value: float = 0.0
    # 429 answers carry this delay, in the header style given: "seconds", "ms" or "date".
    retry_after_s: float = 0.2
    retry_after_style: str = "seconds"
    # A "timeout" fault hangs this long before answering (set above the client timeout).
    hang_s: float = 30.0
    # Models that always answer 503 (to open the breaker); optional Retry-After on those.
    down_models: tuple[str, ...] = ()
    down_retry_after_s: float | None = None
    # A careless relay that echoes the Authorization header in its error messages (tests that
    # the client redacts what it stores and logs).
    echo_auth_in_errors: bool = False
    seed: int = 0

    @classmethod
    def mixed(cls, total_rate: float, **kwargs: Any) -> Faults:
        """Spread `total_rate` evenly over every fault kind."""
        each = total_rate / len(FAULT_KINDS)
        rates = {f"rate_{k}": each for k in FAULT_KINDS}
        rates.update(kwargs)
        return cls(**rates)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Faults:
        data = json.loads(text)
        data["down_models"] = tuple(data.get("down_models") or ())
        return cls(**data)


def _tokens(text: str) -> int:
    """A deterministic token count (about 4 characters per token)."""
    return max(1, math.ceil(len(text) / 4))


def _completion(body: dict[str, Any], number: int = 0) -> tuple[dict[str, Any], str]:
    """Build the full chat completion for a request body; returns (completion, content)."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise ValueError("'messages' must be a list")
    fmt = body.get("response_format")
    if fmt is not None:
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind not in ("json_schema", "json_object", "text"):
            raise ValueError(f"response_format.type {kind!r} is not supported")
        if kind == "json_schema" and not isinstance(fmt.get("json_schema", {}).get("schema"), dict):
            raise ValueError("response_format json_schema needs json_schema.schema")
    payload = parse_user_payload(messages)
    content = json.dumps(offline_rules.answer(payload), sort_keys=True)
    prompt_text = "".join(str(m.get("content", "")) for m in messages)
    prompt_tokens = _tokens(prompt_text)
    completion_tokens = _tokens(content)
    return (
        {
            "id": f"chatcmpl-offline-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model", "")),
            "system_fingerprint": "offline-rules-v1",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        },
        content,
    )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": "offline_fault", "code": status}},
        status_code=status,
        headers=headers,
    )


@dataclass
class _State:
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

    def draw_fault(self, model: str) -> str | None:
        if model in self.faults.down_models:
            return "down"
        roll = self.rng.random()
        for kind in FAULT_KINDS:
            roll -= getattr(self.faults, f"rate_{kind}")
            if roll < 0:
                return kind
        return None


def _retry_after_headers(seconds: float, style: str) -> dict[str, str]:
    if style == "ms":
        return {"retry-after-ms": str(round(seconds * 1000))}
    if style == "date":
        when = datetime.now(UTC) + timedelta(seconds=seconds)
        return {"retry-after": format_datetime(when, usegmt=True)}
    return {"retry-after": f"{seconds:g}"}


def build_app(state: _State) -> ASGIApp:
    """The ASGI app; all state lives in `state` (one per server)."""

    async def chat(request: Request) -> Response:
        arrived = time.time()
        try:
            body = json.loads(await request.body())
        except json.JSONDecodeError:
            return _error(400, "request body is not JSON")
        model = str(body.get("model", ""))
        fault = state.draw_fault(model)
        state.chat_requests += 1
        state.log.append(
            {
                "t": arrived,
                "model": model,
                "key": request.headers.get("idempotency-key"),
                "fault": fault,
                # Which credential was used, without storing it.
                "auth_sha": hashlib.sha256(
                    request.headers.get("authorization", "").encode()
                ).hexdigest()[:16],
            }
        )
        now_inflight = state.inflight.get(model, 0) + 1
        state.inflight[model] = now_inflight
        state.max_inflight[model] = max(state.max_inflight.get(model, 0), now_inflight)
        try:
            return await _answer_chat(state, request, body, model, fault)
        finally:
            state.inflight[model] -= 1

    async def _answer_chat(
        state: _State, request: Request, body: dict[str, Any], model: str, fault: str | None
    ) -> Response:
        if state.latency_s > 0:
            await asyncio.sleep(state.latency_s)
        if fault == "down":
            headers = None
            if state.faults.down_retry_after_s is not None:
                headers = _retry_after_headers(state.faults.down_retry_after_s, "seconds")
            return _error(503, f"model {model} is unavailable", headers)
        if fault == "429":
            headers = _retry_after_headers(
                state.faults.retry_after_s, state.faults.retry_after_style
            )
            return _error(429, "rate limited", headers)
        if fault == "500":
            detail = "internal error"
            if state.faults.echo_auth_in_errors:
                detail += f" (request had authorization {request.headers.get('authorization')})"
            return _error(500, detail)
        if fault == "timeout":
            # Hang in short naps so a stopping server does not wait (or log) for hung requests.
            deadline = time.monotonic() + state.faults.hang_s
            while time.monotonic() < deadline and not state.closing:
                await asyncio.sleep(0.02)
            if state.closing:
                return _error(503, "server shutting down")
        try:
            completion, content = _completion(body, state.chat_requests)
        except (ValueError, KeyError, TypeError) as exc:
            return _error(400, f"cannot answer: {exc}")
        if fault == "malformed":
            text = json.dumps(completion)
            return Response(text[: len(text) // 2], media_type="application/json")
        if fault == "truncated":
            completion["choices"][0]["message"]["content"] = content[: len(content) // 2]
            completion["choices"][0]["finish_reason"] = "length"
        if fault == "missing_usage":
            del completion["usage"]
        if fault == "bad_value":
            answer = json.loads(content)
            if "signal" in answer:
                answer["signal"] = "STRONG_BUY"
            else:
                answer["score"] = 7.5
            completion["choices"][0]["message"]["content"] = json.dumps(answer)
        return JSONResponse(completion)

    async def models(_: Request) -> Response:
        return JSONResponse(
            {"object": "list", "data": [{"id": "offline-rules", "object": "model"}]}
        )

    async def upload_file(request: Request) -> Response:
        raw = await request.body()
        ctype = request.headers.get("content-type", "")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw
        )
        content = None
        filename = "upload.jsonl"
        for part in msg.iter_parts():
            if part.get_param("name", header="content-disposition") == "file":
                content = part.get_payload(decode=True)
                filename = part.get_filename() or filename
        if content is None:
            return _error(400, "multipart field 'file' is missing")
        file_id = f"file-{hashlib.sha256(content).hexdigest()[:24]}"
        state.files[file_id] = content
        return JSONResponse(
            {
                "id": file_id,
                "object": "file",
                "bytes": len(content),
                "filename": filename,
                "purpose": "batch",
                "created_at": int(time.time()),
            }
        )

    async def file_content(request: Request) -> Response:
        file_id = request.path_params["file_id"]
        if file_id not in state.files:
            return _error(404, f"no file {file_id}")
        return Response(state.files[file_id], media_type="application/jsonl")

    async def create_batch(request: Request) -> Response:
        body = json.loads(await request.body())
        input_id = body.get("input_file_id")
        if input_id not in state.files:
            return _error(404, f"no file {input_id}")
        lines = [ln for ln in state.files[input_id].decode().splitlines() if ln.strip()]
        out, failed = [], 0
        for n, line in enumerate(lines):
            item = json.loads(line)
            try:
                completion, _ = _completion(item["body"])
                resp = {"status_code": 200, "request_id": f"req_{n}", "body": completion}
                out.append(
                    {
                        "id": f"batch_req_{n}",
                        "custom_id": item["custom_id"],
                        "response": resp,
                        "error": None,
                    }
                )
            except (ValueError, KeyError, TypeError) as exc:
                failed += 1
                out.append(
                    {
                        "id": f"batch_req_{n}",
                        "custom_id": item.get("custom_id"),
                        "response": None,
                        "error": {"message": str(exc)},
                    }
                )
        output = ("\n".join(json.dumps(o) for o in out) + "\n").encode()
        output_id = f"file-{hashlib.sha256(output).hexdigest()[:24]}"
        state.files[output_id] = output
        batch_id = f"batch_{len(state.batches) + 1}"
        state.batches[batch_id] = {
            "id": batch_id,
            "object": "batch",
            "endpoint": body.get("endpoint"),
            "input_file_id": input_id,
            "completion_window": body.get("completion_window", "24h"),
            "status": "in_progress",
            "output_file_id": None,
            "_output": output_id,
            "request_counts": {
                "total": len(lines),
                "completed": len(lines) - failed,
                "failed": failed,
            },
            "created_at": int(time.time()),
        }
        return JSONResponse(_public(state.batches[batch_id]))

    async def get_batch(request: Request) -> Response:
        batch = state.batches.get(request.path_params["batch_id"])
        if batch is None:
            return _error(404, "no such batch")
        # First poll sees in_progress, the next one completed: the client must really poll.
        if batch["status"] == "in_progress" and batch.get("_polled"):
            batch["status"] = "completed"
            batch["output_file_id"] = batch["_output"]
        batch["_polled"] = True
        return JSONResponse(_public(batch))

    async def stats(_: Request) -> Response:
        return JSONResponse(
            {
                "chat_requests": state.chat_requests,
                "max_inflight": state.max_inflight,
                "log": state.log,
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
            Route("/v1/files", upload_file, methods=["POST"]),
            Route("/v1/files/{file_id}/content", file_content, methods=["GET"]),
            Route("/v1/batches", create_batch, methods=["POST"]),
            Route("/v1/batches/{batch_id}", get_batch, methods=["GET"]),
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


def _public(batch: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in batch.items() if not k.startswith("_")}


def _bind() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _uvicorn_config(app: ASGIApp) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
        backlog=2048,
    )


class OfflineServer:
    """Context manager running the stand-in; `base_url` ends in /v1 like every provider URL.

    `in_process=True` (default) runs uvicorn in a daemon thread of this process; `False` starts a
    separate Python process, which the benchmark uses so server and client do not share a GIL.
    """

    def __init__(
        self,
        latency_s: float = 0.0,
        faults: Faults | None = None,
        in_process: bool = True,
    ) -> None:
        self.latency_s = latency_s
        self.faults = faults or Faults()
        self.in_process = in_process
        self.base_url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._state: _State | None = None

    def __enter__(self) -> OfflineServer:
        if self.in_process:
            self._start_thread()
        else:
            self._start_process()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start_thread(self) -> None:
        sock = _bind()
        port = sock.getsockname()[1]
        state = _State(self.latency_s, self.faults, random.Random(self.faults.seed))
        self._state = state
        self._server = uvicorn.Server(_uvicorn_config(build_app(state)))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True, name="llm-offline"
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("offline LLM server did not start within 10 s")
            time.sleep(0.005)
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def _start_process(self) -> None:
        cmd = [
            sys.executable,
            "-c",
            "from tardis_assets.lib.llm.offline_server import main; main()",
            "--latency-s",
            str(self.latency_s),
            "--faults",
            self.faults.to_json(),
        ]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.close()
            raise RuntimeError(f"offline LLM server process failed to start (said {line!r})")
        self.base_url = line
        deadline = time.monotonic() + 10
        while True:
            try:
                self.request_count()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def close(self) -> None:
        """Stop the server (idempotent)."""
        if self._server is not None and self._thread is not None:
            if self._state is not None:
                self._state.closing = True
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    @property
    def root_url(self) -> str:
        return self.base_url.removesuffix("/v1")

    def stats(self) -> dict[str, Any]:
        """Counters and the per-request log (arrival time, model, idempotency key, fault)."""
        return httpx.get(f"{self.root_url}/_stats", timeout=30).json()

    def request_count(self) -> int:
        """Chat-completion requests served so far."""
        return int(self.stats()["chat_requests"])

    def set_faults(self, faults: Faults) -> None:
        """Change the fault knobs of the running server."""
        self.faults = faults
        httpx.post(f"{self.root_url}/_faults", content=faults.to_json(), timeout=30)


def main(argv: list[str] | None = None) -> None:
    """Run the stand-in in the foreground; prints its base URL on the first line of stdout."""
    parser = argparse.ArgumentParser(description="offline OpenAI-compatible LLM stand-in")
    parser.add_argument("--latency-s", type=float, default=0.0)
    parser.add_argument("--faults", default=Faults().to_json())
    args = parser.parse_args(argv)
    faults = Faults.from_json(args.faults)
    sock = _bind()
    state = _State(args.latency_s, faults, random.Random(faults.seed))
    config = _uvicorn_config(build_app(state))
    print(f"http://127.0.0.1:{sock.getsockname()[1]}/v1", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
