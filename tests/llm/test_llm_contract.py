"""The early contract: run_signals over real HTTP to the stand-in, cache, dedupe, statuses."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from llm_testkit import MINUTE_US, make_requests

from tardis_assets.lib.llm import (
    KINDS,
    Gateway,
    GatewayConfig,
    OfflineServer,
    SignalRequest,
    run_signals,
)


def _config(srv: OfflineServer, tmp_path: Path, **kw) -> GatewayConfig:
    return GatewayConfig(base_url=srv.base_url, cache_path=tmp_path / "cache.sqlite", **kw)


def test_first_run_answers_every_request_over_http(server: OfflineServer, tmp_path: Path):
    reqs = make_requests(20)
    report = run_signals(_config(server, tmp_path), reqs)
    assert [(r.kind, r.bar_start_us) for r in report.results] == [
        (q.kind, q.bar_start_us) for q in reqs
    ]
    assert all(r.status == "ok" for r in report.results)
    assert report.http_requests == len(reqs) == server.request_count()
    assert report.cache_hits == 0
    for res, req in zip(report.results, reqs, strict=True):
        assert res.value is not None and res.confidence is not None
        assert res.available_at_us is not None
        assert res.available_at_us > req.bar_start_us + req.window_us
        assert res.model is not None and res.model_cutoff is not None
        if req.kind == "pattern":
            assert res.label in {"BUY", "SELL", "HOLD"}
            assert res.value == {"BUY": 1.0, "HOLD": 0.0, "SELL": -1.0}[res.label]
        elif req.kind == "sentiment":
            assert -1.0 <= res.value <= 1.0
        else:
            assert 0.0 <= res.value <= 1.0
    assert len(report.ledger) == len(reqs)
    assert all(row.tokens_in > 0 and row.tokens_out > 0 for row in report.ledger)
    assert all(not row.estimated and row.attempts == 1 for row in report.ledger)
    assert abs(report.cost_usd - sum(r.cost_usd for r in report.ledger)) < 1e-9
    assert report.cost_usd > 0


def test_rules_answer_as_documented(server: OfflineServer, tmp_path: Path):
    t0 = make_requests(1)[0].bar_start_us
    reqs = [
        SignalRequest("sentiment", "x", "S", t0, MINUTE_US, {}, ("Bitcoin surges, rally",)),
        SignalRequest("sentiment", "x", "S", t0, MINUTE_US, {}, ()),
        SignalRequest("pattern", "x", "S", t0, MINUTE_US, {"rsi_14": 25.0, "macd_hist": 0.5}),
        SignalRequest("pattern", "x", "S", t0, MINUTE_US, {"rsi_14": 80.0, "macd_hist": -0.5}),
        SignalRequest("risk", "x", "S", t0, MINUTE_US, {"volatility_30": 0.002}),
    ]
    res = run_signals(_config(server, tmp_path), reqs).results
    assert res[0].value == 1.0
    assert res[1].value == 0.0 and res[1].confidence == 0.1
    assert res[2].label == "BUY" and res[3].label == "SELL"
    assert res[4].value == 0.5


def test_second_run_with_new_server_port_makes_zero_http_calls(tmp_path: Path):
    reqs = make_requests(15)
    with OfflineServer() as first:
        rep1 = run_signals(_config(first, tmp_path), reqs)
    with OfflineServer() as second:
        rep2 = run_signals(_config(second, tmp_path), reqs)
        assert second.request_count() == 0
    assert rep2.http_requests == 0 and rep2.cache_hits == len(reqs)
    assert [(r.value, r.available_at_us, r.request_hash) for r in rep1.results] == [
        (r.value, r.available_at_us, r.request_hash) for r in rep2.results
    ]
    assert rep2.cost_usd == 0 and all(row.cache_hit for row in rep2.ledger)


def test_identical_prompts_are_sent_once(server: OfflineServer, tmp_path: Path):
    one = make_requests(2)
    reqs = one + one + one
    report = run_signals(_config(server, tmp_path), reqs)
    assert server.request_count() == len(one)
    assert report.http_requests == len(one)
    assert [r.value for r in report.results] == [r.value for r in report.results[: len(one)]] * 3
    assert report.cache_hits == 2 * len(one)
    assert sum(1 for row in report.ledger if row.cost_usd > 0) == len(one)


def test_replay_only_miss_is_a_status_and_sends_nothing(server: OfflineServer, tmp_path: Path):
    cached = make_requests(3)
    run_signals(_config(server, tmp_path), cached)
    before = server.request_count()
    new = make_requests(2, start_us=cached[-1].bar_start_us + 100 * MINUTE_US)
    report = run_signals(_config(server, tmp_path, replay_only=True), cached + new)
    assert server.request_count() == before
    statuses = [r.status for r in report.results]
    assert statuses == ["ok"] * len(cached) + ["replay_miss"] * len(new)
    assert all(r.value is None for r in report.results[len(cached) :])


def test_lookahead_guard_refuses_old_bars_unless_in_sample(server: OfflineServer, tmp_path):
    old = int(datetime(2023, 1, 5, tzinfo=UTC).timestamp() * 1_000_000)
    reqs = make_requests(2, start_us=old)
    refused = run_signals(_config(server, tmp_path), reqs)
    assert {r.status for r in refused.results} == {"lookahead_refused"}
    assert all(r.value is None for r in refused.results)
    assert server.request_count() == 0
    allowed = run_signals(_config(server, tmp_path, allow_in_sample=True), reqs)
    assert {r.status for r in allowed.results} == {"ok"}


def test_async_gateway_and_progress(server: OfflineServer, tmp_path: Path):
    seen = []

    async def go():
        cfg = _config(server, tmp_path, progress_interval_s=0.01)
        async with Gateway(cfg) as gw:
            return await gw.generate(make_requests(10), seen.append)

    report = asyncio.run(go())
    assert len(report.results) == 10 * len(KINDS)
    assert seen and seen[-1].done == seen[-1].total == 30
    assert seen[-1].cost_usd > 0


def test_duplicates_across_planning_chunks_are_sent_once(server: OfflineServer, tmp_path: Path):
    once = make_requests(110)  # 330 requests: duplicates land in later planning chunks
    reqs = once + once[::-1]
    seen = []
    report = run_signals(_config(server, tmp_path, progress_interval_s=0.005), reqs, seen.append)
    assert server.request_count() == len(once) == report.http_requests
    assert all(r.status == "ok" for r in report.results)
    by_hash = {r.request_hash: r.value for r in report.results[: len(once)]}
    assert all(by_hash[r.request_hash] == r.value for r in report.results[len(once) :])
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert seen[-1].done == len(reqs) and all(p.done <= len(reqs) for p in seen)


def test_empty_request_list(tmp_path: Path):
    report = run_signals(GatewayConfig(cache_path=tmp_path / "c.sqlite", replay_only=True), [])
    assert report.results == [] and report.ledger == [] and report.http_requests == 0
