"""Durable response cache, spend journal, claims and day spend in one SQLite file (WAL mode).

Why SQLite WAL: every answer is committed the moment it arrives (a kill -9 loses no stored
answer: a committed WAL frame survives the process), several processes share the file (readers
never block, writers queue on the lock with a busy timeout), and primary-key lookups run at well
over 50k/s from a single connection. `synchronous=NORMAL` trades durability against power loss
(not process death) for speed: at worst an answer is bought again.

Tables: `responses` (validated answers only; failures are never cached), `journal` (one row per
sent call, the ledger's source, see journal.py), `claims` (who is sending what, with a lease),
`batches` (Batch API jobs, so an interrupted batch resumes) and `day_spend` (USD per UTC day,
for the daily budget). A `Commit` writes answers, journal rows, spend and claim releases in one
transaction: what was paid is recorded exactly when what it bought is.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tardis_assets.lib.errors import StorageError
from tardis_assets.lib.llm import journal

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    created_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS day_spend (
    day TEXT PRIMARY KEY,
    usd REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS claims (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    lease_until_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS claims_owner ON claims (owner);
CREATE TABLE IF NOT EXISTS batches (
    batch_key TEXT PRIMARY KEY,
    identity TEXT NOT NULL,
    file_id TEXT,
    batch_id TEXT,
    status TEXT NOT NULL,
    updated_us INTEGER NOT NULL
) WITHOUT ROWID;
"""
    + journal.JOURNAL_SCHEMA
)

_SETUP_ATTEMPTS = 40  # ~40 s of waiting in all, then the error surfaces

GRANTED = "granted"
HELD = "held"
ANSWERED = "answered"


class CacheError(StorageError):
    """The cache file cannot be opened or is corrupt; the message names the file."""


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass
class Commit:
    """One durable step of a run: answers bought, the journal rows that paid for them, the
    spend for the daily budget, and the claims it ends.

    `rows()` serializes it on the caller's thread: the writer thread then only runs SQL, so it
    does not queue behind the event loop for the GIL.
    """

    answers: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    journal: list[journal.JournalRow] = field(default_factory=list)
    spend: tuple[date, float] | None = None
    release: list[str] = field(default_factory=list)
    owner: str = ""

    def empty(self) -> bool:
        return not (self.answers or self.journal or self.release) and not (
            self.spend and self.spend[1] > 0
        )

    def rows(self) -> Rows:
        now = now_us()
        spend = (
            [(self.spend[0].isoformat(), self.spend[1])] if self.spend and self.spend[1] > 0 else []
        )
        return Rows(
            [(k, json.dumps(r, separators=(",", ":")), now) for k, r in self.answers],
            journal.params(self.journal),
            spend,
            [(k, self.owner) for k in self.release],
        )


@dataclass
class Rows:
    """A Commit as SQL parameters (several merge into one transaction)."""

    answers: list[tuple[str, str, int]] = field(default_factory=list)
    journal: list[tuple[Any, ...]] = field(default_factory=list)
    spend: list[tuple[str, float]] = field(default_factory=list)
    release: list[tuple[str, str]] = field(default_factory=list)

    def extend(self, other: Rows) -> None:
        self.answers += other.answers
        self.journal += other.journal
        self.spend += other.spend
        self.release += other.release


class ResponseCache:
    """One connection per process (or per thread); use as a context manager to close it."""

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

    # ------------------------------------------------------------------ answers
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
        commits = [Commit(answers=items, spend=spend)]
        commits += [Commit(spend=s) for s in spends or []]
        self.apply(commits)

    def apply(self, commits: Sequence[Commit]) -> None:
        """Write several commits in one transaction."""
        rows = Rows()
        for commit in commits:
            if not commit.empty():
                rows.extend(commit.rows())
        self.write_rows(rows)

    def write_rows(self, rows: Rows) -> None:
        """One transaction for prepared rows (the group writer's unit of work)."""
        if not (rows.answers or rows.journal or rows.spend or rows.release):
            return
        day_usd: dict[str, float] = {}
        for day, usd in rows.spend:
            day_usd[day] = day_usd.get(day, 0.0) + usd
        with self._write() as conn:
            if rows.answers:
                conn.executemany(
                    "INSERT OR IGNORE INTO responses (key, record, created_us) VALUES (?, ?, ?)",
                    rows.answers,
                )
            if rows.journal:
                conn.executemany(journal.INSERT, rows.journal)
            if day_usd:
                conn.executemany(
                    "INSERT INTO day_spend (day, usd) VALUES (?, ?) "
                    "ON CONFLICT(day) DO UPDATE SET usd = usd + excluded.usd",
                    list(day_usd.items()),
                )
            if rows.release:
                conn.executemany("DELETE FROM claims WHERE key = ? AND owner = ?", rows.release)

    def day_spent(self, day: date) -> float:
        row = self._conn.execute(
            "SELECT usd FROM day_spend WHERE day = ?", (day.isoformat(),)
        ).fetchone()
        return 0.0 if row is None else float(row[0])

    def count(self) -> int:
        return int(self._conn.execute("SELECT count(*) FROM responses").fetchone()[0])

    def keys(self) -> set[str]:
        return {k for (k,) in self._conn.execute("SELECT key FROM responses")}

    # ------------------------------------------------------------------ claims
    def claim(
        self, wanted: Sequence[tuple[str, Sequence[str]]], owner: str, lease_s: float
    ) -> dict[str, tuple[str, Any]]:
        """Claim questions before sending them, in one transaction.

        `wanted` holds (claim key, every cache key that would answer it). Per claim key the
        verdict is (GRANTED, None), (HELD, lease end in µs) when another owner's lease is live,
        or (ANSWERED, record) when an answer arrived meanwhile.
        """
        now = now_us()
        until = now + int(lease_s * 1e6)
        verdicts: dict[str, tuple[str, Any]] = {}
        with self._write() as conn:
            for i in range(0, len(wanted), 400):
                chunk = wanted[i : i + 400]
                cache_keys = [k for _, keys in chunk for k in keys]
                marks = ",".join("?" * len(cache_keys))
                answered = dict(
                    conn.execute(
                        f"SELECT key, record FROM responses WHERE key IN ({marks})", cache_keys
                    ).fetchall()
                )
                names = [c for c, _ in chunk]
                held = {
                    k: (o, u)
                    for k, o, u in conn.execute(
                        "SELECT key, owner, lease_until_us FROM claims WHERE key IN "
                        f"({','.join('?' * len(names))})",
                        names,
                    ).fetchall()
                }
                grant = []
                for name, keys in chunk:
                    record = next((answered[k] for k in keys if k in answered), None)
                    other = held.get(name)
                    if record is not None:
                        verdicts[name] = (ANSWERED, json.loads(record))
                    elif other is not None and other[0] != owner and other[1] > now:
                        verdicts[name] = (HELD, other[1])
                    else:
                        verdicts[name] = (GRANTED, None)
                        grant.append((name, owner, until))
                conn.executemany(
                    "INSERT OR REPLACE INTO claims (key, owner, lease_until_us) VALUES (?, ?, ?)",
                    grant,
                )
        return verdicts

    def renew(self, owner: str, lease_s: float) -> None:
        """Extend every lease `owner` holds (the holder is alive)."""
        until = now_us() + int(lease_s * 1e6)
        with self._write() as conn:
            conn.execute("UPDATE claims SET lease_until_us = ? WHERE owner = ?", (until, owner))

    def drop_claims(self, owner: str) -> None:
        """A run ends: whatever it still claims is free again."""
        with self._write() as conn:
            conn.execute("DELETE FROM claims WHERE owner = ?", (owner,))

    def claim_leases(self, names: Sequence[str]) -> dict[str, tuple[str, int]]:
        """Current (owner, lease end) of the given claim keys that are still claimed."""
        out: dict[str, tuple[str, int]] = {}
        for i in range(0, len(names), 500):
            chunk = list(names[i : i + 500])
            rows = self._conn.execute(
                "SELECT key, owner, lease_until_us FROM claims WHERE key IN "
                f"({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            out.update((k, (o, u)) for k, o, u in rows)
        return out

    # ------------------------------------------------------------------ journal and batches
    def journal_rows(
        self, day: date | None = None, kind: str | None = None
    ) -> list[journal.JournalRow]:
        return journal.read(self._conn, day, kind)

    def batch_record(self, batch_key: str) -> dict[str, Any] | None:
        row = self._conn.execute(
            "SELECT identity, file_id, batch_id, status FROM batches WHERE batch_key = ?",
            (batch_key,),
        ).fetchone()
        if row is None:
            return None
        return dict(zip(("identity", "file_id", "batch_id", "status"), row, strict=True))

    def record_batch(
        self, batch_key: str, identity: str, file_id: str | None, batch_id: str | None, status: str
    ) -> None:
        """Remember how far a batch got (uploaded, created, imported): its resume point."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO batches "
                "(batch_key, identity, file_id, batch_id, status, updated_us) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (batch_key, identity, file_id, batch_id, status, now_us()),
            )
