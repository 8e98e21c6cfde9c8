"""Three fixed kill -9 points of the crash soak (bench/crash_soak.py kills at random points over
the whole demo): during ingest, during bars and mid llm_signals, each attempt the re-run of the
one killed before it, then a last re-run to the end. The lake then holds what a clean run holds
(table by table), the LLM ledger equals what the stand-in billed to the cent, and no run or pool
slot is left behind. Real processes, a real instance with an llm pool, real HTTP."""

from __future__ import annotations

import sys
from pathlib import Path

from tardis_assets.operate.crash import KillPoint, crash_soak

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("day_run.py")
DAY = "2025-03-01"
CONFIG = (
    '[data]\ndir = "{data}"\n\n[market]\nsynthetic_trades_per_day = 5000\nraw_types = ["trades"]\n'
)
POINTS = (
    KillPoint(step="raw_trades"),
    KillPoint(step="bars"),
    KillPoint(llm_requests=60),  # sentiment asks 11, pattern 96: mid pattern
)


def test_three_kill_points_end_as_a_clean_run(tmp_path: Path) -> None:
    result = crash_soak(
        [sys.executable, str(DRIVER), DAY],
        tmp_path,
        CONFIG,
        POINTS,
        dagster_yaml=(REPO / "dagster.yaml").read_text(),
        latency_s=0.02,
    )
    log = (tmp_path / "crashed" / "attempts.log").read_text()[-3000:]
    assert [a.killed for a in result.attempts] == [True, True, True], (result.attempts, log)
    assert result.final_returncode == 0, log
    assert {"trades", "bars", "llm_signals", "llm_calls"} <= set(result.clean)
    assert result.differing == [], (result.clean, result.crashed)
    assert result.ledger > 0
    assert round(result.ledger, 2) == round(result.bill, 2), (result.ledger, result.bill)
    assert (result.runs_left, result.slots_left) == (0, 0)
    assert (
        result.line
        == "SUMMARY crash_soak 3 kills | content identical | ledger = bill | stuck runs 0"
    )
