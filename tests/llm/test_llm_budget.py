"""Budget caps: worst case reserved before sending, never exceeded, not-sent reported."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from llm_testkit import make_requests

from tardis_assets.lib.llm import Faults, GatewayConfig, OfflineServer, run_signals
from tardis_assets.lib.llm.cache import ResponseCache


def _cfg(srv: OfflineServer, tmp_path: Path, **kw) -> GatewayConfig:
    return GatewayConfig(base_url=srv.base_url, cache_path=tmp_path / "cache.sqlite", **kw)


def test_run_budget_cap_holds_to_the_cent(tmp_path):
    reqs = make_requests(100)  # 300 requests; ~$0.06 at list prices
    cap = 0.02
    with OfflineServer() as srv:
        report = run_signals(_cfg(srv, tmp_path, budget_run_usd=cap), reqs)
        sent = srv.request_count()
    statuses = Counter(r.status for r in report.results)
    assert statuses["ok"] > 0 and statuses["budget_exhausted"] > 0
    assert set(statuses) == {"ok", "budget_exhausted"}
    assert report.cost_usd <= cap
    assert sum(row.cost_usd for row in report.ledger) <= cap
    # The cap is used, not just respected: what is left is less than one worst-case call.
    assert report.cost_usd > cap - 0.01
    assert report.not_sent == statuses["budget_exhausted"]
    assert sent == report.http_requests == statuses["ok"]
    assert all(r.value is None for r in report.results if r.status == "budget_exhausted")


def test_run_budget_holds_under_faults_and_truncations(tmp_path):
    reqs = make_requests(60)
    cap = 0.01
    faults = Faults.mixed(0.3, retry_after_s=0.01, hang_s=1.0, seed=5)
    with OfflineServer(faults=faults) as srv:
        report = run_signals(
            _cfg(srv, tmp_path, budget_run_usd=cap, backoff_initial_s=0.002, request_timeout_s=0.2),
            reqs,
        )
    assert report.cost_usd <= cap
    assert report.not_sent > 0


def test_day_budget_persists_across_runs(tmp_path):
    day_cap = 0.01
    with OfflineServer() as srv:
        first = run_signals(_cfg(srv, tmp_path, budget_day_usd=day_cap), make_requests(60))
        assert first.not_sent > 0 and first.cost_usd <= day_cap
        later = make_requests(20, start_us=first.results[-1].bar_start_us + 10**9)
        before = srv.request_count()
        second = run_signals(_cfg(srv, tmp_path, budget_day_usd=day_cap), later)
        assert srv.request_count() - before == second.http_requests
    today = datetime.now(UTC).date()
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        spent = cache.day_spent(today)
    assert spent <= day_cap
    assert abs(spent - (first.cost_usd + second.cost_usd)) < 1e-9
    # The second run only sent what fitted in the room the first run left for the day.
    assert second.not_sent > 0
    assert second.cost_usd <= day_cap - first.cost_usd + 1e-12
