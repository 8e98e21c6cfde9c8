"""LLM gateway throughput against the offline stand-in (its own process, 47 ms latency).

Full gateway (limiter, breaker, ledger, durable cache writes, fresh cache) at concurrency 64
versus a naive baseline that opens a new httpx.AsyncClient per request inside a semaphore(64).
The last line is the summary: gateway req/s as % of the latency bound 64/0.047, and x baseline.

    .venv/bin/python bench/llm_throughput.py [--requests 5000] [--baseline 500] [--transports]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tardis_assets.lib.llm import KINDS, GatewayConfig, OfflineServer, SignalRequest, run_signals
from tardis_assets.lib.llm.prompts import build_messages

LATENCY_S = 0.047
CONCURRENCY = 64
BAR0_US = int(datetime(2026, 11, 20, tzinfo=UTC).timestamp() * 1_000_000)


def make_requests(n: int) -> list[SignalRequest]:
    out = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        features = {
            "close": 50_000.0 + i,
            "rsi_14": float(10 + i % 80),
            "macd": 0.5,
            "macd_signal": 0.2,
            "macd_hist": float(i % 9 - 4),
            "volatility_30": 0.0001 * (i % 37),
            "ret_1": 0.0,
        }
        heads = ("Bitcoin rally continues",) if i % 4 == 0 else ()
        out.append(
            SignalRequest(
                kind,
                "binance-futures",
                "BTCUSDT",
                BAR0_US + (i // 3) * 60_000_000,
                60_000_000,
                features,
                heads,
            )
        )
    return out


def run_gateway(base_url: str, n: int, transport: str) -> tuple[float, float]:
    """(req/s, client CPU ms per request) of one full-gateway run on a fresh cache."""
    reqs = make_requests(n)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = GatewayConfig(
            base_url=base_url,
            cache_path=Path(tmp) / "cache.sqlite",
            max_concurrency=CONCURRENCY,
            transport=transport,
        )
        t0 = time.perf_counter()
        c0 = time.process_time()
        report = run_signals(cfg, reqs)
        elapsed = time.perf_counter() - t0
        cpu_ms = (time.process_time() - c0) / n * 1000
    bad = [r.status for r in report.results if r.status != "ok"]
    if bad or report.http_requests != n:
        raise SystemExit(
            f"gateway run incomplete: {len(bad)} failures, {report.http_requests} sent"
        )
    return n / elapsed, cpu_ms


async def _baseline(base_url: str, n: int) -> float:
    sem = asyncio.Semaphore(CONCURRENCY)
    bodies = [
        json.dumps({"model": "deepseek-chat", "messages": build_messages(r), "max_tokens": 200})
        for r in make_requests(n)
    ]

    async def one(body: str) -> None:
        async with sem, httpx.AsyncClient(timeout=60) as client:
            resp = await client.post(
                f"{base_url}/chat/completions",
                content=body,
                headers={"Content-Type": "application/json"},
            )
            resp.raise_for_status()

    t0 = time.perf_counter()
    await asyncio.gather(*(one(b) for b in bodies))
    return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--baseline", type=int, default=500)
    parser.add_argument(
        "--transports",
        action="store_true",
        help="also measure the pure-httpx pool (for the transport choice)",
    )
    args = parser.parse_args()
    bound = CONCURRENCY / LATENCY_S
    with OfflineServer(latency_s=LATENCY_S, in_process=False) as srv:
        run_gateway(srv.base_url, min(300, args.requests), "aiohttp")  # warm-up
        if args.transports:
            for transport in ("httpx", "aiohttp"):
                rate, cpu = run_gateway(srv.base_url, args.requests, transport)
                print(
                    f"transport {transport:8s} {rate:7.0f} req/s = {rate / bound:.0%} of bound, "
                    f"client CPU {cpu:.3f} ms/request"
                )
        gateway, cpu = run_gateway(srv.base_url, args.requests, "aiohttp")
        baseline = asyncio.run(_baseline(srv.base_url, args.baseline))
    load = os.getloadavg()[0]
    print(
        f"bound 64/{LATENCY_S} = {bound:.0f} req/s; load average {load:.1f} "
        f"on {os.cpu_count()} CPUs"
    )
    print(
        f"gateway  {args.requests} requests: {gateway:.0f} req/s, client CPU {cpu:.3f} ms/request"
    )
    print(
        f"baseline {args.baseline} requests (new httpx.AsyncClient per request): {baseline:.0f} "
        "req/s"
    )
    print(
        f"gateway {gateway:.0f} req/s = {gateway / bound:.0%} of bound {bound:.0f}; "
        f"{gateway / baseline:.0f}x baseline {baseline:.0f} req/s"
    )


if __name__ == "__main__":
    main()
