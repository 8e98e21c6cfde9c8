"""A private Redis server: the Celery broker and result backend of a cluster on this machine.

Why: Celery workers take steps from a broker. Debian's ``redis-server`` runs in the foreground
as a child of this process on 127.0.0.1 with persistence off (a broker restart loses queued
steps, which the runs waiting on them then report), so its process is known and stopped by pid.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tardis_assets.lib.cluster.celery_settings import BACKEND_ENV, BROKER_ENV
from tardis_assets.lib.errors import OperationError
from tardis_assets.operate.devserver import free_port
from tardis_assets.operate.proctree import ProcessTree

READY_TIMEOUT_S = 30.0


def redis_binary() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found is None:
        raise OperationError(
            "Redis is not installed: no redis-server on PATH",
            remedy="Install it with `apt-get install -y redis-server` (Debian) and try again.",
        )
    return found


@dataclass
class RedisServer:
    """redis-server on 127.0.0.1:``port`` with its files in ``folder``; a context manager."""

    folder: Path
    port: int | None = None
    tree: ProcessTree | None = field(default=None, init=False)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def url(self, db: int) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def env(self) -> dict[str, str]:
        """Broker (db 0) and result backend (db 1) for every process of the cluster."""
        return {BROKER_ENV: self.url(0), BACKEND_ENV: self.url(1)}

    @property
    def log_path(self) -> Path:
        return self.folder / "redis.log"

    def start(self) -> RedisServer:
        binary = redis_binary()
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.port is None:
            self.port = free_port(self.host)
        cmd = [
            binary,
            "--bind",
            self.host,
            "--port",
            str(self.port),
            "--dir",
            str(self.folder),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            str(self.log_path),
        ]
        process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.tree = ProcessTree(process)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _ping(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def _wait_ready(self) -> None:
        assert self.tree is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.tree.process.poll() is not None:
                raise OperationError(
                    f"redis-server exited with code {self.tree.process.returncode} at start "
                    f"(log {self.log_path})"
                )
            if self._ping():
                return
            time.sleep(0.1)
        raise OperationError(f"redis-server on port {self.port} not ready (log {self.log_path})")

    def stop(self) -> list[int]:
        if self.tree is None:
            return []
        killed = self.tree.stop()
        self.tree = None
        return killed

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
