"""The ingest benchmark script runs end to end on a small day (no timing asserted)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bench_scripts import run_bench


@pytest.mark.bench
def test_bench_ingest_prints_summary(tmp_path: Path) -> None:
    last = run_bench("ingest.py", "--rows", "200000", "--workdir", str(tmp_path), timeout=300)[-1]
    assert re.fullmatch(
        r"ingest 200000 rows: [\d.]+M rows/s, peak RSS [\d.]+ GiB, [\d.]+x gzip -dc", last
    ), last
