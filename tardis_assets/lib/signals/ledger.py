"""The ledger partition of one (day, kind), rebuilt from the cache's spend journal.

Contract: `llm_calls` holds one row per call sent to a provider (at least one HTTP attempt),
ok or failed, with its tokens (cached and reasoning included), cost and raw usage. Requests never
sent (cache hits, look-ahead refusals, budget refusals before the first attempt, replay misses,
windows not asked) are not in it; they are counted in `llm_partition_stats`. The journal row of
a call commits with the answers it bought, so the rebuilt ledger is the spend even after a
kill -9; rebuilding is deterministic and idempotent (same journal, same frame).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import polars as pl

from tardis_assets.lib.llm.cache import ResponseCache
from tardis_assets.lib.signals.tables import LLM_CALLS


def ledger_rows(cache_path: Path, day: date, kind: str) -> pl.DataFrame:
    """Every journaled call of (day, kind), as an `llm_calls` frame, in a fixed order."""
    if not Path(cache_path).exists():
        return LLM_CALLS.empty()
    with ResponseCache(cache_path) as cache:
        rows = cache.journal_rows(day, kind)
    if not rows:
        return LLM_CALLS.empty()
    data = [{**dataclasses.asdict(r), "unit_keys": list(r.unit_keys)} for r in rows]
    return LLM_CALLS.conform(pl.DataFrame(data, schema=LLM_CALLS.polars_schema, orient="row"))
