"""The ingest benchmark script runs end to end on a small day (no timing asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "ingest.py"


@pytest.mark.bench
def test_bench_ingest_prints_summary(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--rows", "200000", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert re.fullmatch(
        r"ingest 200000 rows: [\d.]+M rows/s, peak RSS [\d.]+ GiB, [\d.]+x gzip -dc", last
    ), last
