"""A private Redis server: the Celery broker and result backend of a cluster on this machine.

Why: Celery workers take steps from a broker. Debian's ``redis-server`` runs in the foreground
as a child of this process on 127.0.0.1 with persistence off (a broker restart loses queued
steps, which the runs waiting on them then report), so its process is known and stopped by pid.
"""

from __future__ import annotations

import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tardis_assets.lib.cluster.celery_settings import BACKEND_ENV, BROKER_ENV
from tardis_assets.operate.devserver import free_port
from tardis_assets.operate.proctree import ProcessTree
from tardis_assets.operate.service import LocalServer, find_binary, wait_until_ready

READY_TIMEOUT_S = 30.0


def redis_binary() -> str:
    return find_binary("redis-server", Path("/usr/bin"), "Redis", "redis-server")


@dataclass
class RedisServer(LocalServer):
    """redis-server on 127.0.0.1:``port`` with its files in ``folder``; a context manager."""

    folder: Path
    port: int | None = None
    tree: ProcessTree | None = field(default=None, init=False)

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
        self.launch(cmd, subprocess.DEVNULL, self._wait_ready)
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
        wait_until_ready(
            self.tree,
            self._ping,
            f"redis-server on port {self.port}",
            self.log_path,
            READY_TIMEOUT_S,
        )
