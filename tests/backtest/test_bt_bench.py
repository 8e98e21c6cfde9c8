"""bench/sweep.py run small: the benchmark works and agrees with vectorbt (no timing asserts)."""

from __future__ import annotations

import pytest
from bench_scripts import run_bench


@pytest.mark.bench
def test_sweep_benchmark_small() -> None:
    pytest.importorskip("vectorbt")
    lines = run_bench("sweep.py", "--bars", "20000", "--combos", "200", "--vbt-combos", "10")
    assert lines[-1].startswith("SUMMARY sweep 200 combos")
    compare = next(line for line in lines if line.startswith("compare"))
    diff = float(compare.split("= ")[1].split()[0])
    assert diff <= 1e-6
