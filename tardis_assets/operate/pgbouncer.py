"""PgBouncer in front of the cluster's PostgreSQL: one pool of server connections for all.

Why: dagster-postgres opens a connection for each storage call and closes it after (its
SQLAlchemy engines use no pool), and PostgreSQL forks a backend process for every connection,
which then authenticates and warms its catalog caches before the query runs. With the daemon,
the webserver, a run worker per run and every Celery worker all calling the storage, that churn
cost PostgreSQL 81-106 CPU-s in the 8-day scale-out backfill on two cores, CPU taken from the
workers (README, "Beyond one machine", has the measurement). PgBouncer accepts those
connections instead and hands each one a server connection it keeps open.

Session pooling: a client holds one server connection for as long as it stays connected, so
LISTEN/NOTIFY (the event-log watcher), advisory locks and session settings behave exactly as on
a direct connection; when the client disconnects, the server connection is reset (``DISCARD
ALL``) and kept for the next one. Like the PostgreSQL it fronts, it listens on 127.0.0.1 only,
with trust authentication for the one Dagster user, and runs in the foreground as a child of
this process (as the ``postgres`` OS user when this process is root: it refuses root).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tardis_assets.operate.devserver import free_port
from tardis_assets.operate.postgres import (
    OS_USER,
    PostgresServer,
    as_server_user,
    give_to_server_user,
    psql,
    server_bin_dir,
)
from tardis_assets.operate.proctree import ProcessTree
from tardis_assets.operate.service import LocalServer, find_binary, wait_until_ready

READY_TIMEOUT_S = 30.0
# Server connections kept per database/user pair: above what the cluster's processes hold at
# once (a few per process), below PostgreSQL's max_connections.
POOL_SIZE = 100
MAX_CLIENTS = 1000


def pgbouncer_binary() -> str:
    return find_binary("pgbouncer", Path("/usr/sbin"), "PgBouncer", "pgbouncer")


@dataclass
class PgBouncer(LocalServer):
    """pgbouncer on 127.0.0.1:``port`` pooling connections to ``upstream``; a context manager."""

    folder: Path
    upstream: PostgresServer
    port: int | None = None
    tree: ProcessTree | None = field(default=None, init=False)

    @property
    def log_path(self) -> Path:
        return self.folder / "pgbouncer.log"

    @property
    def auth_file(self) -> Path:
        """The one user PgBouncer lets in (trust authentication: no password)."""
        return self.folder / "users.txt"

    def env(self) -> dict[str, str]:
        """The upstream's DAGSTER_PG_* variables, pointed at this pooler."""
        return {
            **self.upstream.env(),
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
        }

    def config(self) -> str:
        """The ini file: the one Dagster database, session pooling, loopback and trust only."""
        up = self.upstream
        return "\n".join(
            [
                "[databases]",
                f"{up.database} = host={up.host} port={up.port} dbname={up.database} "
                f"user={up.user}",
                "[pgbouncer]",
                f"listen_addr = {self.host}",
                f"listen_port = {self.port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {self.auth_file}",
                "pool_mode = session",
                f"default_pool_size = {POOL_SIZE}",
                f"max_client_conn = {MAX_CLIENTS}",
                # psycopg2 sends these at connect; PgBouncer would otherwise refuse the client.
                "ignore_startup_parameters = extra_float_digits,options",
                f"logfile = {self.log_path}",
                "log_connections = 0",
                "log_disconnections = 0",
                "",
            ]
        )

    def start(self) -> PgBouncer:
        binary = pgbouncer_binary()
        prefix = as_server_user()
        give_to_server_user(self.folder, prefix)
        if self.port is None:
            self.port = free_port(self.host)
        users = self.auth_file
        users.write_text(f'"{self.upstream.user}" ""\n')
        ini = self.folder / "pgbouncer.ini"
        ini.write_text(self.config())
        if prefix:
            shutil.chown(users, OS_USER, OS_USER)
            shutil.chown(ini, OS_USER, OS_USER)
        with (self.folder / "stdout.log").open("ab") as out:
            self.launch([*prefix, binary, str(ini)], out, self._wait_ready)
        return self

    def _wait_ready(self) -> None:
        """Until a query through the pooler reaches PostgreSQL."""
        assert self.tree is not None
        bin_dir = server_bin_dir()
        up = self.upstream

        def answers() -> bool:
            probe = psql(bin_dir, self.host, self.port, up.user, up.database, "SELECT 1")
            return probe.returncode == 0

        wait_until_ready(
            self.tree, answers, f"pgbouncer on port {self.port}", self.log_path, READY_TIMEOUT_S
        )
