"""Durable response cache and day-spend store in one SQLite file (WAL mode).

Why SQLite WAL: every response is committed the moment it arrives (a kill -9 loses no paid
answer: a committed WAL frame survives the process), several processes can share the file
(readers never block, writers queue on the lock with a busy timeout), and primary-key lookups
run at well over 50k/s from a single connection. `synchronous=NORMAL` trades durability against
power loss (not process death) for speed, which is the right trade for a cache of paid answers
that can, at worst, be bought again.

Only successful, validated answers are stored: failures are never cached.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    created_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS day_spend (
    day TEXT PRIMARY KEY,
    usd REAL NOT NULL
) WITHOUT ROWID;
"""


def _canon(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@functools.lru_cache(maxsize=256)
def _canon_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def cache_key(
    identity: str,
    model: str,
    messages: list[dict[str, str]],
    params: dict[str, Any],
    schema: dict[str, Any],
    prompt_version: str,
) -> str:
    """sha256 of canonical JSON of everything that shapes the answer (never the api key)."""
    return cache_key_from_parts(
        identity, model, _canon(messages), _canon(params), _canon(schema), prompt_version
    )


def cache_key_from_parts(
    identity: str,
    model: str,
    messages_json: str,
    params_json: str,
    schema_json: str,
    prompt_version: str,
) -> str:
    """Same key as `cache_key` from parts already in canonical JSON (sorted keys, compact).

    The hot path serializes the messages once per request and reuses the text for the keys of
    every model in the chain and for the request body.
    """
    text = (
        '{"base_url":' + _canon_str(identity)
        + ',"messages":' + messages_json
        + ',"model":' + _canon_str(model)
        + ',"params":' + params_json
        + ',"prompt_version":' + _canon_str(prompt_version)
        + ',"schema":' + schema_json
        + "}"
    )  # fmt: skip
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_SETUP_ATTEMPTS = 40  # ~40 s of waiting in all, then the error surfaces


class CacheError(RuntimeError):
    """The cache file cannot be opened or is corrupt; the message names the file."""


class ResponseCache:
    """One connection per process (or per run); use as a context manager to close it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._setup()
        except sqlite3.DatabaseError as exc:
            raise CacheError(f"{self.path}: cannot open LLM cache: {exc}") from None

    def _setup(self) -> None:
        """Switch to WAL and create the schema, waiting out another process doing the same.

        Changing the journal mode takes an exclusive lock and SQLite reports "database is
        locked" at once, without its busy handler, when two processes open a new file together.
        """
        for attempt in range(_SETUP_ATTEMPTS):
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.executescript(_SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == _SETUP_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._conn.execute("SELECT record FROM responses WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def get_many(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Bulk lookup (chunked IN lists); returns only the keys present."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT key, record FROM responses WHERE key IN ({marks})", chunk
            ).fetchall()
            found.update((k, json.loads(r)) for k, r in rows)
        return found

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Store one answer and commit at once (durable before the caller moves on)."""
        self.put_many([(key, record)])

    def put_many(
        self,
        items: list[tuple[str, dict[str, Any]]],
        spend: tuple[date, float] | None = None,
        spends: list[tuple[date, float]] | None = None,
    ) -> None:
        """Store answers (and paid USD per day) in one transaction; a key is never rewritten."""
        day_usd = [s for s in [*(spends or []), *([spend] if spend else [])] if s[1] > 0]
        if not items and not day_usd:
            return
        now = time.time_ns() // 1000
        with self._write() as conn:
            if items:
                conn.executemany(
                    "INSERT OR IGNORE INTO responses (key, record, created_us) VALUES (?, ?, ?)",
                    [(k, json.dumps(r, separators=(",", ":")), now) for k, r in items],
                )
            if day_usd:
                conn.executemany(
                    "INSERT INTO day_spend (day, usd) VALUES (?, ?) "
                    "ON CONFLICT(day) DO UPDATE SET usd = usd + excluded.usd",
                    [(d.isoformat(), usd) for d, usd in day_usd],
                )

    def add_spend(self, day: date, usd: float) -> None:
        """Add paid USD to a day's total (persisted across runs for the daily budget)."""
        if usd > 0:
            self.put_many([], (day, usd))

    def day_spent(self, day: date) -> float:
        row = self._conn.execute(
            "SELECT usd FROM day_spend WHERE day = ?", (day.isoformat(),)
        ).fetchone()
        return 0.0 if row is None else float(row[0])

    def count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM responses").fetchone()[0])

    def keys(self) -> set[str]:
        return {k for (k,) in self._conn.execute("SELECT key FROM responses")}
