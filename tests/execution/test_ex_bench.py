"""The execution benchmark script runs end to end on a tiny day (no timing asserted)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bench_scripts import run_bench


@pytest.mark.bench
@pytest.mark.parametrize("generator", ["compact", "auto"])
def test_bench_execution_prints_summary(tmp_path: Path, generator: str) -> None:
    pytest.importorskip("hftbacktest")
    lines = run_bench(
        "execution.py", "--events", "200000", "--workdir", str(tmp_path), "--generator", generator
    )
    day = next(line for line in lines if line.startswith("day: "))
    rows = int(day.split()[1])
    assert rows > 150_000
    assert re.fullmatch(
        rf"SUMMARY execution {rows} events [\d.]+s [\d.]+M/s rss [\d.]+ GiB \| "
        r"hftbacktest [\d.]+M/s \| [\d.]+x",
        lines[-1],
    ), lines[-1]
    fills = next(line for line in lines if line.startswith("fills: "))
    ours, theirs = (int(x) for x in re.findall(r"\d+", fills))
    assert ours > 0 and theirs > 0
