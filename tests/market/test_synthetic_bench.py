"""A 50M-event synthetic day, all types, written to tardis CSV in bounded memory (bench only)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bench_scripts import run_bench


@pytest.mark.bench
def test_a_50m_event_day_stays_under_1_gib(tmp_path: Path) -> None:
    last = run_bench(
        "synthetic_day.py", "--events", "50000000", "--workdir", str(tmp_path), timeout=1800
    )[-1]
    match = re.fullmatch(r"SUMMARY synthetic (\d+) events ([\d.]+)s rss ([\d.]+)", last)
    assert match, last
    events, rss = int(match[1]), float(match[3])
    assert 40_000_000 <= events <= 60_000_000
    assert rss <= 1.0
    assert list(tmp_path.iterdir()) == []  # the temp folder is gone
