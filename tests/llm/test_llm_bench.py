"""Small run of bench/llm_throughput.py (opt-in: pytest -m bench)."""

from __future__ import annotations

import pytest
from bench_scripts import run_bench


@pytest.mark.bench
def test_llm_throughput_bench_runs_small():
    last = run_bench("llm_throughput.py", "--requests", "600", "--baseline", "100", timeout=300)[-1]
    assert last.startswith("gateway ") and "of bound" in last and "x baseline" in last
