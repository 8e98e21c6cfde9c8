"""Start and stop a private ``dagster dev`` (webserver + daemon + code server) from a script.

Why this exists: the backfill command and the end-to-end test need Dagster's own machinery (the
daemon that executes asset backfills, the webserver that serves GraphQL and the UI), on a private
``DAGSTER_HOME`` and data folder. ``dagster dev`` starts several processes; SIGTERM to the parent
alone left the code server, gRPC server, webserver and daemon running, so every pid seen in the
process tree is remembered and stopped by id: SIGTERM, a grace period, then SIGKILL.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from tardis_assets.operate.proctree import STOP_GRACE_S, ProcessTree

READY_TIMEOUT_S = 120.0

_READY_QUERY = """
query Ready {
  version
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
  instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } }
}
"""


class DevServerError(RuntimeError):
    """``dagster dev`` did not come up (the message holds the tail of its log)."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS considers free right now (a tiny race remains; start() detects it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class DevServer:
    """One ``dagster dev`` on loopback with its own DAGSTER_HOME and TARDIS_DATA_DIR.

    Use as a context manager; ``stop()`` is idempotent and runs on any exit path.
    """

    dagster_home: Path
    data_dir: Path
    workspace: Path
    dagster_yaml: Path | None = None
    port: int | None = None
    host: str = "127.0.0.1"
    cwd: Path | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)
    ready_timeout_s: float = READY_TIMEOUT_S
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    tree: ProcessTree | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def log_path(self) -> Path:
        return self.dagster_home / "dagster_dev.log"

    def start(self) -> DevServer:
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # With DAGSTER_HOME set, a dagster.yaml in the working directory is ignored: copy it in.
        if self.dagster_yaml is not None:
            shutil.copyfile(self.dagster_yaml, self.dagster_home / "dagster.yaml")
        if self.port is None:
            self.port = free_port(self.host)
        env = {
            **os.environ,
            **self.extra_env,
            "DAGSTER_HOME": str(self.dagster_home),
            "TARDIS_DATA_DIR": str(self.data_dir),
        }
        dagster = Path(sys.executable).with_name("dagster")
        cmd = [
            str(dagster) if dagster.exists() else sys.executable,
            *([] if dagster.exists() else ["-m", "dagster"]),
            "dev",
            "-w",
            str(self.workspace),
            "-h",
            self.host,
            "-p",
            str(self.port),
        ]
        with self.log_path.open("ab") as log:
            # Own session: a Ctrl-C meant for the caller does not hit the services half-way;
            # they are stopped by pid in stop().
            self.process = subprocess.Popen(
                cmd,
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.tree = ProcessTree(self.process)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def known_pids(self) -> list[int]:
        """Every pid of this server's process tree seen so far."""
        return list(self.tree.known) if self.tree else []

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self) -> None:
        """Block until GraphQL answers, the code location is loaded and the daemon is healthy.

        The backfill daemon must be running, or a submitted backfill would sit unprocessed.
        """
        assert self.process is not None and self.tree is not None
        deadline = time.monotonic() + self.ready_timeout_s
        last = "no answer yet"
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                self.tree.remember()
                if self.process.poll() is not None:
                    raise DevServerError(
                        f"dagster dev exited with code {self.process.returncode} before it was "
                        f"ready (log {self.log_path}):\n{self.log_tail()}"
                    )
                try:
                    answer = client.post(self.graphql_url, json={"query": _READY_QUERY})
                    if answer.status_code == 200:
                        payload = answer.json()
                        self._raise_on_load_error(payload)
                        last = self._readiness(payload)
                        if not last:
                            return
                    else:
                        last = f"HTTP {answer.status_code}"
                except (httpx.TransportError, ValueError) as exc:
                    last = f"{type(exc).__name__}: {exc}"
                time.sleep(0.5)
        raise DevServerError(
            f"dagster dev on {self.url} not ready after {self.ready_timeout_s:.0f} s ({last}); "
            f"log {self.log_path}:\n{self.log_tail()}"
        )

    def _raise_on_load_error(self, payload: dict) -> None:
        """A code location that failed to import is "loaded" too: fail fast with its error."""
        workspace = (payload.get("data") or {}).get("workspaceOrError") or {}
        for entry in workspace.get("locationEntries") or []:
            loaded = entry.get("locationOrLoadError") or {}
            if loaded.get("__typename") == "PythonError":
                raise DevServerError(
                    f"code location {entry['name']} failed to load: {loaded.get('message')}"
                )

    @staticmethod
    def _readiness(payload: dict) -> str:
        """Empty when ready, else what is still missing."""
        data = payload.get("data") or {}
        workspace = data.get("workspaceOrError") or {}
        entries = workspace.get("locationEntries") or []
        if not entries or any(
            e["loadStatus"] != "LOADED" or not e.get("locationOrLoadError") for e in entries
        ):
            return f"code locations not loaded: {entries or workspace}"
        statuses = (data.get("instance") or {}).get("daemonHealth", {}).get("allDaemonStatuses", [])
        backfill = [s for s in statuses if s["daemonType"] == "BACKFILL"]
        if not backfill or not backfill[0]["healthy"]:
            return f"backfill daemon not healthy yet: {backfill}"
        return ""

    def stop(self, grace_s: float = STOP_GRACE_S) -> list[int]:
        """Stop every process this server started; returns pids that needed SIGKILL."""
        if self.tree is None:
            return []
        killed = self.tree.stop(grace_s)
        self.process = None
        return killed

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
