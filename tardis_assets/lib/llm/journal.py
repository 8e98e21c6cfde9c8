"""The spend journal: one row per call sent to a provider, written in the same SQLite commit as
the answers it bought (or, for a call that failed after being sent, with its spend alone).

The ledger `llm_calls` is rebuilt from this journal, so a kill -9 at any point loses no spend
that reached the cache: an answer and the row that paid for it commit together or not at all.
Calls never sent (cache hits, look-ahead refusals, budget refusals before the first attempt,
replay misses) have no row. `JournalRow` is the single definition of the ledger's columns: the
SQLite table here and the warehouse table (`lib/signals/tables.py`) are both derived from it.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Any

# Ledger statuses of a call: the unit statuses of contracts, plus "partial" (some items of a
# packed answer failed; each was asked again alone, in its own row).
STATUS_PARTIAL = "partial"


@dataclass(slots=True)
class JournalRow:
    """One sent call: what it asked, what it cost, how it ended."""

    call_id: str
    day: date  # the partition whose questions the call answered
    kind: str
    run_id: str
    status: str
    provider: str
    model_requested: str  # primary model of the route
    model_returned: str | None  # what the provider said answered
    items: int  # questions the call carried (1 unless packed)
    unit_keys: tuple[str, ...]  # their cache keys (request_hash in llm_signals)
    tokens_in: int  # every prompt token, cached ones included
    tokens_cached: int
    tokens_out: int  # reasoning tokens included, as providers bill them
    tokens_reasoning: int
    cost_usd: float
    estimated: bool  # some usage was missing or unreadable: priced at ~4 bytes/token or worst case
    replayed: int  # attempts the provider answered from its idempotency store
    latency_ms: float
    attempts: int  # HTTP attempts over the whole fallback chain, repair included
    transport: str  # "online" or "batch"
    batch_id: str | None
    error: str | None  # redacted
    usage_json: str | None  # the provider's raw usage objects, one per paid attempt (JSON list)
    requested_at_us: int


FIELDS = tuple(f.name for f in dataclasses.fields(JournalRow))

_SQL_TYPES = {"int": "INTEGER", "float": "REAL", "bool": "INTEGER"}

JOURNAL_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS journal (\n    "
    + ",\n    ".join(
        f"{f.name} {_SQL_TYPES.get(str(f.type), 'TEXT')}"
        + (" PRIMARY KEY" if f.name == "call_id" else "")
        for f in dataclasses.fields(JournalRow)
    )
    + "\n) WITHOUT ROWID;\n"
    "CREATE INDEX IF NOT EXISTS journal_day_kind ON journal (day, kind);\n"
)

INSERT = (
    f"INSERT OR IGNORE INTO journal ({', '.join(FIELDS)}) VALUES ({', '.join('?' * len(FIELDS))})"
)


_DAY = FIELDS.index("day")
_KEYS = FIELDS.index("unit_keys")
_ESTIMATED = FIELDS.index("estimated")


def params(rows: list[JournalRow]) -> list[tuple[Any, ...]]:
    """Rows as parameters of INSERT (a call id is never written twice)."""
    out = []
    for row in rows:
        values = [getattr(row, f) for f in FIELDS]
        values[_DAY] = values[_DAY].isoformat()
        values[_KEYS] = json.dumps(list(values[_KEYS]))
        values[_ESTIMATED] = int(values[_ESTIMATED])
        out.append(tuple(values))
    return out


def _row(values: tuple[Any, ...]) -> JournalRow:
    data = dict(zip(FIELDS, values, strict=True))
    data["day"] = date.fromisoformat(data["day"])
    data["unit_keys"] = tuple(json.loads(data["unit_keys"] or "[]"))
    data["estimated"] = bool(data["estimated"])
    return JournalRow(**data)


def read(
    conn: sqlite3.Connection, day: date | None = None, kind: str | None = None
) -> list[JournalRow]:
    """Journal rows (all, or of one day and/or kind) in a deterministic order."""
    where, args = [], []
    if day is not None:
        where.append("day = ?")
        args.append(day.isoformat())
    if kind is not None:
        where.append("kind = ?")
        args.append(kind)
    sql = f"SELECT {', '.join(FIELDS)} FROM journal"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY requested_at_us, call_id"
    return [_row(v) for v in conn.execute(sql, args).fetchall()]
