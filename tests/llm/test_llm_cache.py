"""The SQLite cache: shared by several processes, fast lookups, first answer wins."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from tardis_assets.lib.llm import OfflineServer
from tardis_assets.lib.llm.cache import CacheError, ResponseCache

CHILD = """
import sys
sys.path.insert(0, {testdir!r})
from pathlib import Path
from llm_testkit import make_requests
from tardis_assets.lib.llm import GatewayConfig, run_signals
cfg = GatewayConfig(base_url=sys.argv[1], cache_path=Path(sys.argv[2]), max_concurrency=16)
report = run_signals(cfg, make_requests(int(sys.argv[3]), start_us=int(sys.argv[4])))
assert all(r.status == "ok" for r in report.results), report
print(report.http_requests, report.cache_hits)
"""


def test_two_processes_share_one_cache_file(tmp_path):
    from llm_testkit import BAR0_US, MINUTE_US

    cache = tmp_path / "cache.sqlite"
    code = CHILD.format(testdir=str(Path(__file__).parent))
    with OfflineServer(latency_s=0.005) as srv:
        # Overlapping ranges: bars 0..79 and 40..119, started together.
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code, srv.base_url, str(cache), "80", str(start)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for start in (BAR0_US, BAR0_US + 40 * MINUTE_US)
        ]
        outs = [p.communicate(timeout=120) for p in procs]
        for p, (_, err) in zip(procs, outs, strict=True):
            assert p.returncode == 0, err
        served = srv.request_count()
    with ResponseCache(cache) as c:
        assert c.count() == 120 * 3
    # Overlap may be sent twice when both ask at the same moment, never more.
    assert 360 <= served <= 480


def test_first_answer_wins_and_spend_accumulates(tmp_path):
    with ResponseCache(tmp_path / "c.sqlite") as c:
        c.put_many([("k", {"v": 1})], spend=(date(2026, 1, 2), 0.25))
        c.put_many([("k", {"v": 2})], spends=[(date(2026, 1, 2), 0.5), (date(2026, 1, 3), 1.0)])
        assert c.get("k") == {"v": 1}
        assert c.day_spent(date(2026, 1, 2)) == 0.75
        assert c.day_spent(date(2026, 1, 3)) == 1.0
        assert c.get_many(["k", "missing"]) == {"k": {"v": 1}}


def test_corrupt_cache_file_names_the_file(tmp_path):
    bad = tmp_path / "cache.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CacheError, match=r"cache\.sqlite"):
        ResponseCache(bad)


@pytest.mark.bench
def test_cache_lookups_per_second(tmp_path):
    n = 20_000
    with ResponseCache(tmp_path / "c.sqlite") as c:
        rec = {"value": 0.5, "confidence": 0.9, "label": None, "model_id": "gpt-4.1"}
        c.put_many([(f"{i:064x}", rec) for i in range(n)])
        t0 = time.perf_counter()
        for i in range(n):
            assert c.get(f"{i:064x}") is not None
        single = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        found = c.get_many(f"{i:064x}" for i in range(n))
        bulk = n / (time.perf_counter() - t0)
    assert len(found) == n
    print(f"cache lookups: {single:,.0f}/s one by one, {bulk:,.0f}/s bulk")
    assert single >= 50_000 or bulk >= 50_000
