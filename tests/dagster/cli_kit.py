"""The real `tardis-assets` command in its own process, on a temporary project, and the checks
every expected failure must pass (imported by name: tests/dagster is on sys.path)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import dagster as dg


def run_cli(
    tmp: Path,
    config: str,
    *argv: str,
    provider: str = "offline",
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``tardis-assets ARGV`` with ``config`` as its project file and DAGSTER_HOME tmp/home;
    ``env`` adds to (or overrides) the environment."""
    (tmp / "tardis_assets.toml").write_text(config)
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    full = {
        **os.environ,
        "TARDIS_CONFIG": str(tmp / "tardis_assets.toml"),
        "DAGSTER_HOME": str(home),
        "TARDIS_LLM_PROVIDER": provider,
        **(env or {}),
    }
    full.pop("TARDIS_DATA_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "tardis_assets.cli", *argv],
        capture_output=True,
        text=True,
        cwd=tmp,
        env=full,
        timeout=600,
    )


def base_config(tmp: Path, extra: str = "") -> str:
    return f'[data]\ndir = "{tmp / "data"}"\n\n[market]\nsynthetic_trades_per_day = 20000\n' + extra


def assert_one_sentence(done: subprocess.CompletedProcess[str], *facts: str) -> str:
    """Exit 1, no traceback, exactly one `tardis-assets: ` line holding every fact."""
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Traceback" not in out and "Stack Trace" not in out, out
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("tardis-assets: ")]
    for fact in facts:
        assert fact in line, (fact, line)
    return line


def step_attempts(home: Path, step: str) -> int:
    """How many times the latest run of the instance at ``home`` started ``step`` (retries
    included)."""
    starts = (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_RESTARTED)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs(limit=1)
        return sum(
            1
            for entry in instance.all_logs(run.run_id)
            if entry.dagster_event is not None
            and entry.dagster_event.event_type in starts
            and entry.dagster_event.step_key == step
        )
