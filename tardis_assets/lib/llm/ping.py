"""Connectivity check behind `tardis-assets llm ping`: one real signal-shaped call, no cache.

It sends the same kind of request the pipeline sends (a sentiment prompt with no headlines), so
"ok" means the key, the URL, the model name and structured output all work end to end.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from tardis_assets.lib.llm import contracts as c
from tardis_assets.lib.llm.client import ChatClient
from tardis_assets.lib.llm.prompts import build_messages
from tardis_assets.lib.llm.providers import (
    ROUTING,
    ProviderConfigError,
    api_key_for,
    resolve,
    secrets,
)
from tardis_assets.lib.llm.retry import AttemptError, redact
from tardis_assets.lib.llm.routing import load_routing
from tardis_assets.lib.llm.runtime import run_in_loop
from tardis_assets.lib.llm.schemas import SchemaError, parse_answer, response_format

_PING_BAR_US = 1_767_225_600_000_000  # 2026-01-01T00:00Z


@dataclass(frozen=True)
class PingResult:
    provider: str
    base_url: str
    model: str
    ok: bool
    latency_ms: float
    model_returned: str | None
    error: str | None

    def line(self) -> str:
        """One human line, e.g. for the CLI."""
        verdict = "ok" if self.ok else f"FAIL ({self.error})"
        returned = f" -> {self.model_returned}" if self.model_returned else ""
        return (
            f"{self.provider} {self.base_url} model {self.model}{returned}: {verdict} "
            f"in {self.latency_ms:.0f} ms"
        )


async def ping_async(config: c.GatewayConfig, model: str | None = None) -> PingResult:
    table = load_routing(config.routing_path)
    model_id = model or table.routes["sentiment"].chain[0]
    info = table.models.get(model_id)
    pname = config.provider
    if pname == ROUTING:
        if info is None:
            raise ProviderConfigError(f"model {model_id!r} is not in the routing table")
        pname = info.provider
    endpoint = resolve(config, pname)
    api_key = api_key_for(config, pname)
    req = c.SignalRequest("sentiment", "ping", "PING", _PING_BAR_US, 60_000_000, {}, ())
    body = {
        "model": model_id,
        "messages": build_messages(req),
        "temperature": 0.0,
        "max_tokens": 100,
        "response_format": response_format("sentiment", bool(info and info.json_schema)),
    }
    client = ChatClient(endpoint.base_url, api_key, config.request_timeout_s, 1, config.transport)
    t0 = time.monotonic()
    error = None
    returned = None
    try:
        resp = await client.chat(json.dumps(body).encode(), "ping", config.retry_after_cap_s)
        returned = resp.model
        parse_answer("sentiment", resp.content)
    except (AttemptError, SchemaError) as exc:
        error = redact(str(exc), secrets(config))
    finally:
        await client.aclose()
    return PingResult(
        provider=endpoint.provider.name,
        base_url=endpoint.base_url,
        model=model_id,
        ok=error is None,
        latency_ms=(time.monotonic() - t0) * 1000,
        model_returned=returned,
        error=error,
    )


def ping(config: c.GatewayConfig, model: str | None = None) -> PingResult:
    """Synchronous ping (runs its own event loop)."""
    return run_in_loop(lambda: ping_async(config, model))
