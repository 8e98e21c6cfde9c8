"""A 50M-event synthetic day, all types, written to tardis CSV in bounded memory (bench only)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "synthetic_day.py"


@pytest.mark.bench
def test_a_50m_event_day_stays_under_1_gib(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--events", "50000000", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    last = proc.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"SUMMARY synthetic (\d+) events ([\d.]+)s rss ([\d.]+)", last)
    assert match, last
    events, rss = int(match[1]), float(match[3])
    assert 40_000_000 <= events <= 60_000_000
    assert rss <= 1.0
    assert list(tmp_path.iterdir()) == []  # the temp folder is gone
