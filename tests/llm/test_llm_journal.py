"""Write-ahead spend and one payer per request (issue 10), with real processes: the stand-in in
its own process, gateways in child processes killed with SIGKILL, one shared SQLite cache."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from llm_testkit import kill_after_requests

from tardis_assets.lib.llm import OfflineServer
from tardis_assets.lib.llm.cache import ResponseCache
from tardis_assets.lib.llm.offline_answers import billed_usd
from tardis_assets.lib.llm.routing import load_routing

N_BARS = 200  # x 3 kinds = 600 requests

CHILD = """
import sys
sys.path.insert(0, {testdir!r})
from pathlib import Path
from llm_testkit import make_requests
from tardis_assets.lib.llm import GatewayConfig, run_signals
cfg = GatewayConfig(base_url=sys.argv[1], cache_path=Path(sys.argv[2]), max_concurrency=16,
                    claim_lease_s=1.0, claim_poll_s=0.05)
requests = make_requests({n})
if len(sys.argv) > 3 and sys.argv[3] == "reversed":
    requests = requests[::-1]
report = run_signals(cfg, requests)
assert all(r.status == "ok" for r in report.results), report
print("done", report.http_requests, report.cache_hits, flush=True)
"""


def _child(base_url: str, cache: Path, order: str = "forward") -> subprocess.Popen[str]:
    code = CHILD.format(testdir=str(Path(__file__).parent), n=N_BARS)
    return subprocess.Popen(
        [sys.executable, "-c", code, base_url, str(cache), order],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _journal(cache: Path) -> list:
    with ResponseCache(cache) as c:
        return c.journal_rows()


@pytest.mark.timeout(300)
def test_kill_9_at_several_points_then_rerun_ledger_equals_the_bill(tmp_path):
    cache = tmp_path / "cache.sqlite"
    prices = load_routing().models
    with OfflineServer(latency_s=0.02, in_process=False) as srv:
        for kill_at in (40, 250, 480):
            child = _child(srv.base_url, cache)
            kill_after_requests(srv, child, kill_at)
            # At every kill point, what the journal holds never exceeds what was billed.
            log = srv.stats()["log"]
            assert sum(r.cost_usd for r in _journal(cache)) <= billed_usd(log, prices) + 1e-12
        rerun = _child(srv.base_url, cache)
        _, err = rerun.communicate(timeout=180)
        assert rerun.returncode == 0, err
        log = srv.stats()["log"]
    rows = _journal(cache)
    keys = [k for r in rows for k in r.unit_keys]
    assert len(keys) == len(set(keys)) == 3 * N_BARS  # every request journaled exactly once
    assert round(sum(r.cost_usd for r in rows), 2) == round(billed_usd(log, prices), 2)
    assert abs(sum(r.cost_usd for r in rows) - billed_usd(log, prices)) < 1e-9
    # Requests in flight at a kill were answered again from the stand-in's idempotency store,
    # billed once and journaled once.
    replays = sum(1 for e in log if e["replayed"])
    assert replays > 0 and sum(r.replayed for r in rows) == replays


@pytest.mark.timeout(300)
@pytest.mark.parametrize("orders", [("forward", "forward"), ("forward", "reversed")])
def test_two_processes_on_the_same_requests_pay_once(tmp_path, orders):
    """Same order: the second mostly waits for the first. Opposite orders: each holds what the
    other needs later, and both must still finish with every request paid once."""
    cache = tmp_path / "cache.sqlite"
    with OfflineServer(latency_s=0.005, in_process=False) as srv:
        procs = [_child(srv.base_url, cache, order) for order in orders]
        outs = [p.communicate(timeout=180) for p in procs]
        for p, (_, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err
        served = srv.request_count()
        log = srv.stats()["log"]
    rows = _journal(cache)
    unique = 3 * N_BARS
    assert served == len(rows) == unique
    assert not any(e["replayed"] for e in log)
    sent = [int(out.split()[1]) for out, _ in outs]
    hits = [int(out.split()[2]) for out, _ in outs]
    assert sum(sent) == unique and all(s + h == unique for s, h in zip(sent, hits, strict=True))
    with ResponseCache(cache) as c:
        assert c.count() == unique
        assert c.claim_leases([k for r in rows for k in r.unit_keys]) == {}  # all released
