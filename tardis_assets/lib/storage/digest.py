"""Content digests of the lake: what "the same result" means when two runs are compared.

Why: a re-run, a run on other processes or machines, or a run after a killed worker must leave
the same content. Partition files are written deterministically, so most tables are compared
by the bytes of their files (cheap, and stricter than rows). A few tables record *when* or *by
which run* a write happened (ingest time, measured latencies, run ids); those are compared by
their rows without those columns. Paths are compared relative to the lake root, so two lakes in
different folders can be compared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import polars as pl

from tardis_assets.lib.storage.lake import Lake
from tardis_assets.lib.warehouse import Warehouse

# Columns that record when or where a write happened, not what was written, per table or view.
VOLATILE: Mapping[str, str] = {
    "raw_files": "ingested_at",
    "llm_partition_latest": "materialized_at, run_id",
    # measured latencies and request times differ run to run; what was paid does not
    "llm_calls": "latency_ms, requested_at_us, run_id, call_id",
}
# Across two lakes, the absolute paths ingest records differ as well.
VOLATILE_ACROSS_LAKES: Mapping[str, str] = {
    **VOLATILE,
    "raw_files": "ingested_at, lake_path, input_path",
}
# Lake folders whose files hold volatile columns (compared by rows instead), and the per-run
# stats (one file per run by design; their latest-run view is compared).
NOT_BYTE_COMPARED = ("raw_files", "llm_calls", "llm_partition_stats")


def frame_digest(frame: pl.DataFrame) -> tuple[int, str]:
    """(rows, sha256 over the schema and every column's values) of a frame whose rows are
    already in a canonical order: the one definition of "same rows" for every comparison."""
    digest = hashlib.sha256(",".join(f"{c}:{t}" for c, t in frame.schema.items()).encode())
    for column in frame.columns:
        digest.update(frame.get_column(column).hash(seed=0).to_numpy().tobytes())
    return frame.height, digest.hexdigest()


def content_hashes(
    wh: Warehouse, tables: Iterable[str], volatile: Mapping[str, str] = VOLATILE
) -> dict[str, tuple[int, str]]:
    """(rows, digest of the sorted rows) per table or view, without its volatile columns."""
    out = {}
    for table in tables:
        exclude = f" EXCLUDE ({volatile[table]})" if table in volatile else ""
        out[table] = frame_digest(wh.read(f"SELECT *{exclude} FROM {table} ORDER BY ALL"))
    return out


def file_hashes(lake: Lake, skip: Iterable[str] = NOT_BYTE_COMPARED) -> dict[str, tuple[int, str]]:
    """(files, sha256 over each file's relative path and bytes) per top-level lake folder."""
    skipped = set(skip)
    out = {}
    for folder in sorted(p for p in lake.root.iterdir() if p.is_dir() and p.name not in skipped):
        digest = hashlib.sha256()
        files = sorted(folder.rglob("*.parquet"))
        for path in files:
            digest.update(str(path.relative_to(lake.root)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        out[folder.name] = (len(files), digest.hexdigest())
    return out


def lake_hashes(
    wh: Warehouse, volatile: Mapping[str, str] = VOLATILE_ACROSS_LAKES
) -> dict[str, tuple[int, str]]:
    """Every table of a lake: file digests, plus row digests of the volatile ones (comparable
    between two lakes in different folders)."""
    tables = ("raw_files", "llm_calls", "llm_partition_latest")
    rows = [t for t in tables if wh.table_exists(t)]
    return {**file_hashes(wh.lake), **content_hashes(wh, rows, volatile)}
