"""What a backfill's runs wrote: its runs, their event log and compute logs, as text.

Why: "no lock error anywhere" and "where did the time go" are questions about every log a run
produced, on whichever worker each step ran; with PostgreSQL storage the event log of every
process is in one place, and the compute logs are files under the instance's storage folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg


def backfill_runs(instance: dg.DagsterInstance, run_tag: tuple[str, str]) -> list[dg.DagsterRun]:
    """The runs of a backfill, by the tag all of them carry (``BackfillOutcome.run_tag``)."""
    return list(instance.get_runs(filters=dg.RunsFilter(tags={run_tag[0]: run_tag[1]})))


def event_texts(instance: dg.DagsterInstance, run_ids: list[str]) -> Iterator[tuple[str, str]]:
    """(run and step, text) of every event of the runs: messages and error stacks."""
    for run_id in run_ids:
        for record in instance.get_records_for_run(run_id, limit=1_000_000).records:
            entry = record.event_log_entry
            where = f"event log {run_id[:8]} {entry.step_key or ''}".strip()
            parts = [entry.user_message or ""]
            event = entry.dagster_event
            if event is not None:
                parts.append(event.message or "")
                data = event.event_specific_data
                error = getattr(data, "error", None)
                if error is not None:
                    parts.append(error.to_string())
            yield where, "\n".join(p for p in parts if p)


def compute_log_files(dagster_home: Path) -> list[Path]:
    """Compute logs (captured stdout/stderr of every step) under the instance's storage."""
    storage = dagster_home / "storage"
    return sorted(p for p in storage.rglob("*") if p.is_file() and p.suffix in (".out", ".err"))
