"""Crash soak: kill -9 the `tardis-assets demo` process tree at N random points of one day.

A clean run of one synthetic day goes to one project; on a second project the same command is
started N times, each time SIGKILLed (the process and every descendant at once) at a random
point: a random step of the day's pipeline has started, plus 0-3 s. Each attempt is the re-run
of the one killed before it; a last re-run goes to the end. Then the lake must hold what the
clean run holds (a content hash per table; operate/crash.py says which columns differ by
design), the LLM ledger must equal what the stand-in billed (its own request log) to the cent,
and no run may be left unfinished nor any pool slot held. The logic is
tardis_assets/operate/crash.py; the test of three fixed points (tests/dagster/
test_crash_points.py) uses it too.

    .venv/bin/python bench/crash_soak.py [--kills 6] [--seed 1] [--trades-per-day 20000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import warnings
from pathlib import Path

from tardis_assets.defs.registry import build_registry
from tardis_assets.lib.settings import load_settings
from tardis_assets.operate.crash import KillPoint, crash_soak

REPO = Path(__file__).resolve().parents[1]
DAY = "2025-03-01"
RAW_TYPES = ("trades", "quotes")  # quotes: the tick-level execution replays them


def pipeline_steps() -> list[str]:
    """The day's steps in the order the demo runs them (the range studies last)."""
    registry = build_registry(load_settings(env={"TARDIS_RAW_TYPES": ",".join(RAW_TYPES)}))
    return [
        *(f"raw_{t}" for t in registry.raw_types),
        "news",
        "bars",
        "llm_signals",
        "backtest_results",
        "execution_results",
        *registry.range_assets,
    ]


def random_points(n: int, seed: int, steps: list[str]) -> list[KillPoint]:
    """A random step's start plus 0-3 s: every attempt runs every step (a re-run too), so each
    point is reached; a point counted in LLM requests would not be (a re-run pays nothing new:
    the three fixed points of the test include one mid llm_signals)."""
    rng = random.Random(seed)
    return [
        KillPoint(step=rng.choice(steps), delay_s=round(rng.uniform(0, 3), 2)) for _ in range(n)
    ]


def main(argv: list[str]) -> int:
    warnings.filterwarnings("ignore", message=r".*currently in (beta|preview).*")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--trades-per-day", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep the files")
    args = parser.parse_args(argv)
    config = (
        '[data]\ndir = "{data}"\n\n[market]\n'
        f"synthetic_trades_per_day = {args.trades_per_day}\n"
        f"raw_types = [{', '.join(repr(t) for t in RAW_TYPES)}]\n".replace("'", '"')
    )
    points = random_points(args.kills, args.seed, pipeline_steps())
    command = [sys.executable, "-m", "tardis_assets.cli", "demo", "--start", DAY, "--days", "1"]
    with tempfile.TemporaryDirectory(prefix="crash-soak-") as tmp:
        root = args.keep or Path(tmp)
        result = crash_soak(
            command, root, config, points, dagster_yaml=(REPO / "dagster.yaml").read_text()
        )
        for i, attempt in enumerate(result.attempts, 1):
            what = (
                f"killed {attempt.pids_killed} processes"
                if attempt.killed
                else f"ended first (exit {attempt.returncode})"
            )
            print(
                f"attempt {i}: at {attempt.point.describe()}: {what} after {attempt.seconds:.1f} s"
            )
        print(f"final re-run: exit {result.final_returncode}")
        print(f"tables compared: {len(result.clean)} ({', '.join(sorted(result.clean))})")
        for table in result.differing:
            print(f"differs: {table}: clean {result.clean.get(table)}, "
                  f"crashed {result.crashed.get(table)}")  # fmt: skip
        print(f"ledger ${result.ledger:.6f}, stand-in bill ${result.bill:.6f}")
        print(f"unfinished runs {result.runs_left}, held pool slots {result.slots_left}")
        print(result.line)
    expected = f"SUMMARY crash_soak {result.kills} kills | content identical | ledger = bill | "
    return 0 if result.line == expected + "stuck runs 0" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
