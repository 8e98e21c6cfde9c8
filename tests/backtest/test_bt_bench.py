"""bench/sweep.py run small: the benchmark works and agrees with vectorbt (no timing asserts)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "sweep.py"


@pytest.mark.bench
def test_sweep_benchmark_small() -> None:
    pytest.importorskip("vectorbt")
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--bars", "20000", "--combos", "200", "--vbt-combos", "10"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("SUMMARY sweep 200 combos")
    compare = next(line for line in lines if line.startswith("compare"))
    diff = float(compare.split("= ")[1].split()[0])
    assert diff <= 1e-6
