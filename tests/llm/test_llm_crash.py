"""A run killed with SIGKILL mid-partition and restarted resends nothing already paid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from llm_testkit import kill_after_requests

from tardis_assets.lib.llm import OfflineServer
from tardis_assets.lib.llm.cache import ResponseCache

CHILD = """
import sys
sys.path.insert(0, {testdir!r})
from pathlib import Path
from llm_testkit import make_requests
from tardis_assets.lib.llm import GatewayConfig, run_signals
cfg = GatewayConfig(base_url=sys.argv[1], cache_path=Path(sys.argv[2]), max_concurrency=8)
report = run_signals(cfg, make_requests(200))
print("done", report.http_requests, report.cache_hits, flush=True)
"""


def _run_child(base_url: str, cache: Path) -> subprocess.Popen[str]:
    code = CHILD.format(testdir=str(Path(__file__).parent))
    return subprocess.Popen(
        [sys.executable, "-c", code, base_url, str(cache)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_9_mid_run_then_restart_resends_nothing_paid(tmp_path):
    cache = tmp_path / "cache.sqlite"
    with OfflineServer(latency_s=0.02) as srv:
        child = _run_child(srv.base_url, cache)
        kill_after_requests(srv, child, 150, timeout_s=60)
        first_log = srv.stats()["log"]
        with ResponseCache(cache) as c:
            paid_and_stored = c.keys()
        served_first = {e["key"] for e in first_log}
        # Served but not stored at the kill: the calls in flight (<= concurrency, 8) and the
        # answers bought but not yet durable, which the runner bounds to 8 as well.
        assert len(served_first - paid_and_stored) <= 2 * 8
        assert 150 - 8 <= len(paid_and_stored) < 600

        restart = _run_child(srv.base_url, cache)
        out, err = restart.communicate(timeout=120)
        assert restart.returncode == 0, err
        second_keys = [e["key"] for e in srv.stats()["log"][len(first_log) :]]
    assert not set(second_keys) & paid_and_stored
    assert len(second_keys) == 600 - len(paid_and_stored)
    _, sent, hits = out.split()
    assert int(sent) == len(second_keys) and int(hits) == len(paid_and_stored)
