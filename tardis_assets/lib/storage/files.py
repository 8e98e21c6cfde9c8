"""Atomic file publication: a file appears complete at its final name, or not at all.

Every writer of the lake (ingest, derived tables, the ledger) goes through ``atomic_target``: the
content is written under a hidden temporary name in the destination's folder, flushed to disk,
and renamed over the destination in one ``os.replace``. A crash at any point leaves either the
previous file or the new one; readers never see half a file, and the temporary name never ends
in ``.parquet``, so lake globs cannot pick it up.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def fsync_path(path: Path) -> None:
    """Flush a file (or a folder's entries) to stable storage."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_target(dest: Path) -> Iterator[Path]:
    """A temp path in dest's folder, renamed onto ``dest`` only if the block succeeds.

    Folders this call had to create are removed again on failure, so a failed first write of a
    partition leaves no trace in the lake.
    """
    dest = Path(dest)
    created: list[Path] = []
    parent = dest.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.{secrets.token_hex(6)}.tmp"
    ok = False
    try:
        yield tmp
        if tmp.exists():
            fsync_path(tmp)
        os.replace(tmp, dest)
        fsync_path(dest.parent)
        ok = True
    finally:
        tmp.unlink(missing_ok=True)
        if not ok:
            for folder in created:  # deepest first
                try:
                    folder.rmdir()
                except OSError:
                    break
