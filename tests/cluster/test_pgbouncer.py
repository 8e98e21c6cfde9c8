"""PgBouncer in front of the cluster's PostgreSQL: what Dagster's storage relies on still holds.

- short connections through the pooler reuse one PostgreSQL backend instead of forking one
  each (the reason it is there);
- session pooling keeps a client on one backend: LISTEN/NOTIFY, which the event-log watcher
  uses, reaches a listener connected through the pooler;
- both servers are stopped by pid, and none of their processes survives.
"""

from __future__ import annotations

import select
import time
from pathlib import Path

import psycopg2
import pytest

from tardis_assets.operate.pgbouncer import PgBouncer
from tardis_assets.operate.postgres import PostgresServer
from tardis_assets.operate.proctree import alive

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(300)]


def _connect(env: dict[str, str]):
    return psycopg2.connect(
        host=env["DAGSTER_PG_HOST"],
        port=int(env["DAGSTER_PG_PORT"]),
        user=env["DAGSTER_PG_USERNAME"],
        dbname=env["DAGSTER_PG_DB"],
        connect_timeout=5,
    )


def _backend_pid(env: dict[str, str]) -> int:
    """One connect-query-close cycle, ending the transaction first as SQLAlchemy does when it
    gives a connection back (PgBouncer drops a server connection left inside a transaction)."""
    conn = _connect(env)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            pid = cur.fetchone()[0]
        conn.rollback()
        return pid
    finally:
        conn.close()


def test_pooler_reuses_backends_and_keeps_sessions(cluster_binaries, server_dir: Path) -> None:
    # PostgreSQL makes server_dir its own; PgBouncer's folder is inside it, like the cluster's.
    with (
        PostgresServer(server_dir) as server,
        PgBouncer(server_dir / "pgbouncer", server) as pooler,
    ):
        pooled, direct = pooler.env(), server.env()
        assert pooled["DAGSTER_PG_PORT"] != direct["DAGSTER_PG_PORT"]

        # Twenty connect-query-close cycles, as dagster-postgres makes them.
        through_pooler = {_backend_pid(pooled) for _ in range(20)}
        straight = {_backend_pid(direct) for _ in range(5)}
        assert len(through_pooler) == 1, through_pooler
        assert len(straight) == 5, straight  # without it, every connection is a new backend

        listener = _connect(pooled)
        listener.autocommit = True
        try:
            with listener.cursor() as cur:
                cur.execute("LISTEN run_events")
            sender = _connect(pooled)
            sender.autocommit = True
            with sender.cursor() as cur:
                cur.execute("NOTIFY run_events, 'run-1'")
            sender.close()
            deadline = time.monotonic() + 10
            while not listener.notifies and time.monotonic() < deadline:
                select.select([listener], [], [], 1)
                listener.poll()
            assert [n.payload for n in listener.notifies] == ["run-1"]
        finally:
            listener.close()
        pids = [*pooler.tree.live(), *server.tree.live()]
        assert pids
    assert not [pid for pid in pids if alive(pid)]
