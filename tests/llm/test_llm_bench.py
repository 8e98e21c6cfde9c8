"""Small run of bench/llm_throughput.py (opt-in: pytest -m bench)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "llm_throughput.py"


@pytest.mark.bench
def test_llm_throughput_bench_runs_small():
    out = subprocess.run(
        [sys.executable, str(BENCH), "--requests", "600", "--baseline", "100"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    last = out.strip().splitlines()[-1]
    assert last.startswith("gateway ") and "of bound" in last and "x baseline" in last
