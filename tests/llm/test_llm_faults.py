"""Fault injection over real loopback HTTP: retries, Retry-After, breaker + fallback, no
cached failures. Delays are shrunk through GatewayConfig so the suite stays fast."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import pytest
from llm_testkit import make_requests

from tardis_assets.lib.llm import STATUSES, Faults, GatewayConfig, OfflineServer, run_signals
from tardis_assets.lib.llm.cache import ResponseCache

FAST = {
    "backoff_initial_s": 0.005,
    "backoff_max_s": 0.02,
    "request_timeout_s": 0.3,
    "max_concurrency": 16,
}


def _cfg(srv: OfflineServer, tmp_path: Path, **kw) -> GatewayConfig:
    return GatewayConfig(
        base_url=srv.base_url, cache_path=tmp_path / "cache.sqlite", **{**FAST, **kw}
    )


def test_thirty_percent_faults_every_request_ends_ok_or_failed_and_no_failure_cached(tmp_path):
    reqs = make_requests(60)  # 180 requests
    faults = Faults.mixed(0.30, retry_after_s=0.02, hang_s=2.0, seed=11)
    with OfflineServer(faults=faults) as srv:
        # One attempt per model: plenty of requests must fail (both chain models faulted).
        first = run_signals(_cfg(srv, tmp_path, max_attempts=1), reqs)
        seen = Counter(e["fault"] for e in srv.stats()["log"])
    assert {k for k in seen if k} == {
        "429",
        "500",
        "timeout",
        "malformed",
        "truncated",
        "missing_usage",
        "bad_value",
    }
    statuses = Counter(r.status for r in first.results)
    assert set(statuses) <= set(STATUSES)
    assert statuses["ok"] < len(reqs), "faults should make some requests fail"
    assert statuses["provider_error"] + statuses["parse_error"] > 0
    for res in first.results:
        if res.status == "ok":
            assert res.value is not None and res.confidence is not None
        else:
            assert res.value is None and res.confidence is None and res.label is None
            assert res.available_at_us is None and res.error
    # Missing usage is estimated, never silently exact.
    assert any(row.estimated for row in first.ledger)
    ok_count = statuses["ok"]
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        assert cache.count() == ok_count

    # Replay: exactly the ok answers come back; the failures were not cached.
    with OfflineServer() as clean:
        replay = run_signals(_cfg(clean, tmp_path, replay_only=True), reqs)
        assert clean.request_count() == 0
    for a, b in zip(first.results, replay.results, strict=True):
        if a.status == "ok":
            assert b.status == "ok" and b.cache_hit and b.value == a.value
        else:
            assert b.status == "replay_miss"

    # Normal retries (4 attempts), plus 120 new requests so the retry path surely runs: the
    # failed ones are sent again and now succeed, the ok ones come from the cache.
    more = reqs + make_requests(40, start_us=reqs[-1].bar_start_us + 10**9)
    with OfflineServer(faults=faults) as srv:
        second = run_signals(_cfg(srv, tmp_path, max_attempts=4), more)
    assert second.cache_hits == ok_count
    assert Counter(r.status for r in second.results)["ok"] >= len(more) - 2
    assert max(row.attempts for row in second.ledger) >= 2


@pytest.mark.parametrize(
    ("style", "wait_s", "min_gap_s"),
    [("seconds", 0.3, 0.29), ("ms", 0.25, 0.24), ("date", 2.0, 0.9)],
)
def test_retry_after_is_respected_as_seen_by_the_server(tmp_path, style, wait_s, min_gap_s):
    faults = Faults(rate_429=0.5, retry_after_s=wait_s, retry_after_style=style, seed=3)
    reqs = make_requests(2 if style == "date" else 8, kinds=("pattern",))
    with OfflineServer(faults=faults) as srv:
        report = run_signals(_cfg(srv, tmp_path, backoff_initial_s=0.001, max_attempts=6), reqs)
        log = srv.stats()["log"]
    assert all(r.status == "ok" for r in report.results)
    by_key: dict[str, list[dict]] = {}
    for entry in log:
        by_key.setdefault(entry["key"], []).append(entry)
    gaps = [
        later["t"] - earlier["t"]
        for entries in by_key.values()
        for earlier, later in itertools.pairwise(entries)
        if earlier["fault"] == "429"
    ]
    assert gaps, "the seed must produce at least one 429 followed by a retry"
    assert min(gaps) >= min_gap_s


def test_long_retry_after_opens_breaker_and_fallback_answers(tmp_path):
    faults = Faults(down_models=("deepseek-chat",), down_retry_after_s=120.0)
    reqs = make_requests(40, kinds=("sentiment",))
    with OfflineServer(faults=faults) as srv:
        report = run_signals(_cfg(srv, tmp_path, max_concurrency=4), reqs)
        per_model = Counter(e["model"] for e in srv.stats()["log"])
    assert all(r.status == "ok" for r in report.results)
    assert {r.model for r in report.results} == {"gemini-2.0-flash"}
    # Retry-After 120 s > cap: never retried; the breaker stops further sends at once.
    assert per_model["deepseek-chat"] <= 4
    assert per_model["gemini-2.0-flash"] == len(reqs)
    for row in report.ledger:
        assert row.model_requested == "deepseek-chat"
        assert row.model_returned == "gemini-2.0-flash"
        assert row.status == "ok"


def test_failure_threshold_opens_breaker_then_fails_fast(tmp_path):
    faults = Faults(down_models=("gpt-4.1",))
    reqs = make_requests(50, kinds=("pattern",))
    with OfflineServer(faults=faults) as srv:
        report = run_signals(
            _cfg(
                srv,
                tmp_path,
                max_concurrency=2,
                max_attempts=2,
                breaker_failure_threshold=3,
                breaker_cooldown_s=60.0,
            ),
            reqs,
        )
        per_model = Counter(e["model"] for e in srv.stats()["log"])
    assert all(r.status == "ok" and r.model == "gpt-4.1-mini" for r in report.results)
    # Threshold 3 plus at most the requests already in flight, then no more sends to gpt-4.1.
    assert per_model["gpt-4.1"] <= 3 + 2
    assert per_model["gpt-4.1-mini"] == len(reqs)


def test_every_model_down_is_a_provider_or_breaker_status_never_a_default(tmp_path):
    faults = Faults(down_models=("claude-3-5-sonnet-20241022", "gpt-4.1"))
    reqs = make_requests(6, kinds=("risk",))
    with OfflineServer(faults=faults) as srv:
        report = run_signals(_cfg(srv, tmp_path, max_attempts=2), reqs)
    assert {r.status for r in report.results} <= {"provider_error", "breaker_open"}
    assert all(r.value is None for r in report.results)
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        assert cache.count() == 0


def test_schema_breaking_answers_are_parse_errors_never_clamped(tmp_path):
    """An answer pushed out of range (e.g. by an injected headline) is refused, not clamped."""
    reqs = make_requests(5)
    with OfflineServer(faults=Faults(rate_bad_value=1.0)) as srv:
        report = run_signals(_cfg(srv, tmp_path), reqs)
        sent = srv.request_count()
    assert {r.status for r in report.results} == {"parse_error"}
    assert all(r.value is None and r.label is None for r in report.results)
    # Per model: the answer plus exactly one repair retry, then the fallback model, same again.
    assert sent == len(reqs) * 2 * 2
    assert all(row.attempts == 4 and row.cost_usd > 0 for row in report.ledger)
    assert all("outside" in row.error or "not one of" in row.error for row in report.ledger)
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        assert cache.count() == 0


def test_rate_limits_cap_concurrency_and_requests_per_second(tmp_path):
    routing = tmp_path / "routing.toml"
    model = (
        "provider='holysheep'\nprice_in=1.0\nprice_out=2.0\nbatch_discount=0.5\n"
        "cutoff=2024-01-01\njson_schema=true\n"
    )
    routing.write_text(
        "[routes.sentiment]\nchain=['slow']\n[routes.pattern]\nchain=['narrow']\n"
        "[routes.risk]\nchain=['narrow']\n"
        f"[models.slow]\n{model}max_concurrency=64\nrps=20\ntpm=100000000\n"
        f"[models.narrow]\n{model}max_concurrency=2\nrps=10000\ntpm=100000000\n"
    )
    with OfflineServer(latency_s=0.02) as srv:
        report = run_signals(
            _cfg(srv, tmp_path, routing_path=routing),
            make_requests(40, kinds=("sentiment", "pattern")),
        )
        stats = srv.stats()
    assert all(r.status == "ok" for r in report.results)
    assert stats["max_inflight"]["narrow"] <= 2
    # 20 requests at 20/s after a burst of 20: the server saw them spread over >= 0.5 s.
    times = sorted(e["t"] for e in stats["log"] if e["model"] == "slow")
    assert times[-1] - times[0] >= 0.5
