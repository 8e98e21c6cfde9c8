"""Running a `bench/` script small from a test: the script must work end to end (never timed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def run_bench(script: str, *args: str, timeout: float = 900) -> list[str]:
    """Run ``bench/<script>`` with ``args`` in this interpreter; its stdout lines (exit 0 asserted,
    the output's tail in the failure message)."""
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    return proc.stdout.strip().splitlines()
