"""Find lock errors in logs: the symptom of a single-writer file in the write path.

Why a scan: the lake has no file two writers share, so no process of a run should ever wait
for, or fail on, a lock (DuckDB's "Could not set lock on file", SQLite's "database is locked").
Any line naming a lock in a run's logs is therefore reported; "blocked" (Dagster's pool waits)
and "clock" are other words and do not match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

LOCK_WORD = re.compile(r"\block(?:ed|s|ing)?\b", re.IGNORECASE)


def lock_lines(texts: Iterable[tuple[str, str]]) -> list[str]:
    """``where: line`` for every line mentioning a lock, from (where, text) pairs."""
    return [
        f"{where}: {line.strip()[:300]}"
        for where, text in texts
        for line in text.splitlines()
        if LOCK_WORD.search(line)
    ]


def file_texts(paths: Iterable[Path]) -> Iterable[tuple[str, str]]:
    """(path, content) of each readable file; the log files of services and compute steps."""
    for path in paths:
        try:
            yield str(path), path.read_text(errors="replace")
        except OSError:
            continue
