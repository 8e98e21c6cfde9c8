"""Batch path, ping and stats: real stand-in over HTTP, real DuckDB for the ledger table."""

from __future__ import annotations

from llm_testkit import make_requests

from tardis_assets.lib.llm import (
    GatewayConfig,
    OfflineServer,
    run_signals,
    run_signals_batch,
)
from tardis_assets.lib.llm.ping import ping


def test_batch_backfill_costs_half_and_fills_the_same_cache(tmp_path):
    reqs = make_requests(12)
    with OfflineServer() as srv:
        cfg = GatewayConfig(base_url=srv.base_url, cache_path=tmp_path / "batch.sqlite")
        batch = run_signals_batch(cfg, reqs, poll_interval_s=0.01, jsonl_dir=tmp_path / "jsonl")
        assert srv.request_count() == 0  # no online chat calls at all
        assert batch.http_requests >= 4  # upload, create, poll(s), download
        online_after = run_signals(cfg, reqs)
        assert online_after.http_requests == 0 and online_after.cache_hits == len(reqs)
        fresh = GatewayConfig(base_url=srv.base_url, cache_path=tmp_path / "online.sqlite")
        online = run_signals(fresh, reqs)
    assert all(r.status == "ok" for r in batch.results)
    assert [r.value for r in batch.results] == [r.value for r in online.results]
    assert abs(batch.cost_usd - online.cost_usd / 2) < 1e-9
    (jsonl,) = (tmp_path / "jsonl").iterdir()
    keys = {ln.split('"custom_id":"')[1][:64] for ln in jsonl.read_text().splitlines()}
    assert keys == {r.request_hash for r in batch.results}


def test_ping_ok_and_failure():
    with OfflineServer() as srv:
        result = ping(GatewayConfig(base_url=srv.base_url), model="gpt-4.1")
        assert srv.request_count() == 1
    assert result.ok and result.model_returned == "gpt-4.1" and result.latency_ms > 0
    assert "ok" in result.line()
    dead = ping(GatewayConfig(base_url=srv.base_url, request_timeout_s=1.0))
    assert not dead.ok and "connection" in (dead.error or "")
    assert "FAIL" in dead.line()
