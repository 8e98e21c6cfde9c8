"""The batch path resumes after a crash between upload and completion, uploading nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tardis_assets.lib.llm import GatewayConfig, OfflineServer
from tardis_assets.lib.llm.cache import ResponseCache
from tardis_assets.lib.llm.estimate import Estimator

CHILD = """
import sys
sys.path.insert(0, {testdir!r})
from pathlib import Path
from llm_testkit import make_questions
from tardis_assets.lib.llm import GatewayConfig, ask_questions_batch
cfg = GatewayConfig(base_url=sys.argv[1], cache_path=Path(sys.argv[2]))
poll_s = float(sys.argv[3])
report = ask_questions_batch(cfg, make_questions(60), pack_size=4, poll_interval_s=poll_s)
assert all(a.status == "ok" for a in report.answers), report
print("done", report.calls, report.cache_hits, flush=True)
"""


def _child(base_url: str, cache: Path, poll_s: float) -> subprocess.Popen[str]:
    code = CHILD.format(testdir=str(Path(__file__).parent))
    return subprocess.Popen(
        [sys.executable, "-c", code, base_url, str(cache), str(poll_s)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.timeout(180)
def test_batch_resumes_after_a_crash_between_upload_and_completion(tmp_path):
    from llm_testkit import make_questions

    cache = tmp_path / "cache.sqlite"
    with OfflineServer(in_process=False) as srv:
        first = _child(srv.base_url, cache, poll_s=60.0)  # sleeps between polls: killed there
        deadline = time.monotonic() + 60
        while srv.stats()["batches"] < 1:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        with ResponseCache(cache) as c:
            assert c.count() == 0 and c.journal_rows() == []  # nothing imported yet
        second = _child(srv.base_url, cache, poll_s=0.01)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
        stats = srv.stats()
    assert stats["uploads"] == 1 and stats["batches"] == 1  # resumed, not resubmitted
    assert stats["chat_requests"] == 0
    with ResponseCache(cache) as c:
        rows = c.journal_rows()
        assert c.count() == 60 * 2  # 60 bars x (pattern, risk)
    assert {r.transport for r in rows} == {"batch"} and len({r.batch_id for r in rows}) == 1
    # Paid at the batch price, exactly what the estimate says.
    est_cfg = GatewayConfig(base_url=srv.base_url, cache_path=tmp_path / "fresh.sqlite")
    with Estimator(est_cfg) as est:
        est.add_questions(make_questions(60), pack_size=4)
    assert len(rows) == est.total.calls == int(out.split()[1])
    assert abs(sum(r.cost_usd for r in rows) - est.total.usd_batch) < 1e-12
