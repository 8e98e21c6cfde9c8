"""A private PostgreSQL server for Dagster's storage: ``initdb`` in a folder, a loopback port.

Why: Dagster's SQLite storage lives on one machine; with PostgreSQL the webserver, the daemon,
every run worker and every Celery worker, wherever they run, share one run and event log. This
starts Debian's ``postgresql`` binaries on a folder of its own (``make scale-up``, the cluster
tests), with trust authentication on 127.0.0.1 only, so no password exists to leak.

The server binaries refuse to run as root; as root they run as the ``postgres`` OS user that
Debian's package creates (``runuser``), which must be able to reach the data folder. The server
runs in the foreground as a child of this process (no ``pg_ctl`` daemon), so its whole process
tree is known and stopped by pid: a fast shutdown first, then ``proctree``'s SIGTERM/SIGKILL.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tardis_assets.lib.errors import OperationError
from tardis_assets.operate.devserver import free_port
from tardis_assets.operate.proctree import ProcessTree
from tardis_assets.operate.service import LocalServer, wait_until_ready

OS_USER = "postgres"  # the account Debian's postgresql package creates
READY_TIMEOUT_S = 60.0
INSTALL_HINT = "Install it with `apt-get install -y postgresql` (Debian) and try again."


def server_bin_dir() -> Path:
    """The folder of ``initdb`` and ``postgres``: Debian keeps them out of PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    for folder in reversed(candidates):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "postgres").exists():
            return Path(folder)
    initdb = shutil.which("initdb")
    if initdb and (Path(initdb).resolve().parent / "postgres").exists():
        return Path(initdb).resolve().parent
    raise OperationError(
        "PostgreSQL is not installed: no initdb and postgres under /usr/lib/postgresql/*/bin "
        "or on PATH",
        remedy=INSTALL_HINT,
    )


def as_server_user() -> list[str]:
    """Prefix that runs a server binary as the unprivileged ``postgres`` user when this process
    is root (PostgreSQL and PgBouncer refuse to run as root); empty otherwise."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        raise OperationError(
            f"PostgreSQL refuses to run as root and there is no {OS_USER!r} OS user",
            remedy=INSTALL_HINT,
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise OperationError("runuser (util-linux) is missing: cannot start PostgreSQL as root")
    return [runuser, "-u", OS_USER, "--"]


def give_to_server_user(folder: Path, prefix: list[str]) -> None:
    """Make ``folder`` the server user's (when ``prefix`` switches to it), or explain why not."""
    folder.mkdir(parents=True, exist_ok=True)
    if not prefix:
        return
    account = pwd.getpwnam(OS_USER)
    os.chown(folder, account.pw_uid, account.pw_gid)
    os.chmod(folder, 0o700)
    reachable = subprocess.run([*prefix, "test", "-w", str(folder)], capture_output=True)
    if reachable.returncode != 0:
        raise OperationError(
            f"the {OS_USER} OS user cannot reach {folder} (a parent folder is private)",
            remedy="Put the PostgreSQL folder somewhere every user can traverse, "
            "e.g. under /tmp or /var/tmp.",
        )


def psql(
    bin_dir: Path, host: str, port: int | None, user: str, database: str, sql: str
) -> subprocess.CompletedProcess[str]:
    """``sql`` through ``psql`` (the server's own, else the one on PATH); never raises."""
    client = bin_dir / "psql" if (bin_dir / "psql").exists() else Path(shutil.which("psql") or "")
    return subprocess.run(
        [
            *(str(client), "-h", host, "-p", str(port), "-U", user),
            *("-d", database, "-v", "ON_ERROR_STOP=1", "-qAtc", sql),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
    )


@dataclass
class PostgresServer(LocalServer):
    """One PostgreSQL cluster in ``data_dir`` on 127.0.0.1:``port``, one database for Dagster.

    ``start()`` creates the cluster on first use (a later start reuses it: the run history
    stays); use as a context manager, or ``stop()`` (idempotent).
    """

    data_dir: Path
    port: int | None = None
    user: str = "dagster"
    database: str = "dagster"
    log_path: Path | None = None
    tree: ProcessTree | None = field(default=None, init=False)

    @property
    def url_redacted(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    def env(self) -> dict[str, str]:
        """The DAGSTER_PG_* variables ``deploy/dagster.yaml`` reads (trust auth: no password)."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": "",
            "DAGSTER_PG_DB": self.database,
        }

    def start(self) -> PostgresServer:
        bin_dir = server_bin_dir()
        prefix = as_server_user()
        give_to_server_user(self.data_dir, prefix)
        pgdata = self.data_dir / "pgdata"
        if not (pgdata / "PG_VERSION").exists():
            created = subprocess.run(
                [
                    *prefix,
                    str(bin_dir / "initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    self.user,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-locale",
                ],
                capture_output=True,
                text=True,
            )
            if created.returncode != 0:
                raise OperationError(
                    f"initdb failed in {pgdata}: {created.stderr.strip()[-400:]}",
                    remedy="Delete that folder if it is a broken cluster, then start again.",
                )
        if self.port is None:
            self.port = free_port(self.host)
        log_path = self.log_path or self.data_dir / "postgres.log"
        options = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": "",  # TCP on loopback only; no socket path limits
            "max_connections": "200",  # every Dagster process holds a small pool
            # A crash of the OS may lose the last commits' events, never corrupt the cluster.
            "synchronous_commit": "off",
        }
        cmd = [*prefix, str(bin_dir / "postgres"), "-D", str(pgdata)]
        for key, value in options.items():
            cmd += ["-c", f"{key}={value}"]
        with log_path.open("ab") as log:
            self.launch(cmd, log, lambda: self._ready(bin_dir, log_path))
        return self

    def _ready(self, bin_dir: Path, log_path: Path) -> None:
        self._wait_ready(bin_dir, log_path)
        self._create_database(bin_dir)

    def _psql(self, bin_dir: Path, sql: str) -> subprocess.CompletedProcess[str]:
        return psql(bin_dir, self.host, self.port, self.user, "postgres", sql)

    def _wait_ready(self, bin_dir: Path, log_path: Path) -> None:
        assert self.tree is not None
        wait_until_ready(
            self.tree,
            lambda: self._psql(bin_dir, "SELECT 1").returncode == 0,
            f"PostgreSQL on port {self.port}",
            log_path,
            READY_TIMEOUT_S,
            every_s=0.2,
        )

    def _create_database(self, bin_dir: Path) -> None:
        exists = self._psql(bin_dir, f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'")
        if exists.stdout.strip() == "1":
            return
        made = self._psql(bin_dir, f'CREATE DATABASE "{self.database}"')
        if made.returncode != 0:
            raise OperationError(f"cannot create database {self.database}: {made.stderr.strip()}")

    def stop(self) -> list[int]:
        """Fast shutdown (sessions are ended, the cluster stays consistent), then any process
        left is stopped by pid. Returns the pids that needed SIGKILL."""
        if self.tree is None:
            return []
        with contextlib.suppress(ProcessLookupError):
            postmaster = _postmaster(self.tree)
            if postmaster is not None:
                os.kill(postmaster, signal.SIGINT)  # "fast" shutdown mode
        deadline = time.monotonic() + 15
        while self.tree.process.poll() is None and time.monotonic() < deadline:
            self.tree.remember()
            time.sleep(0.1)
        return super().stop()


def _postmaster(tree: ProcessTree) -> int | None:
    """The ``postgres`` server process (runuser, when used, is its parent)."""
    tree.remember()
    for pid in tree.live():
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if Path(exe).name == "postgres":
            return pid
    return None
