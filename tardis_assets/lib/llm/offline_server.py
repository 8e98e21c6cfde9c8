"""The `offline` provider: a real OpenAI-compatible HTTP server on loopback, and its runner.

It answers `/v1/chat/completions` from the transparent rules in `offline_rules` (see
offline_answers for tokens, prompt caching and billing), implements the Batch API subset the
gateway uses (offline_batch), and has knobs for latency and injected faults (offline_faults), so
tests and benchmarks exercise the real client, retries and breaker over real sockets. It runs
under uvicorn in a background thread (tests) or in its own process (benchmarks and kill tests,
so the server neither shares the client's GIL nor dies with it). uvicorn and starlette are
imported only when a server starts: importing the gateway never pulls them in.
"""

from __future__ import annotations

import argparse
import random
import socket
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx

from tardis_assets.lib.llm.offline_faults import Faults

if TYPE_CHECKING:
    import uvicorn


def _bind() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _server(latency_s: float, faults: Faults) -> tuple[uvicorn.Server, Any]:
    import uvicorn

    from tardis_assets.lib.llm.offline_app import State, build_app

    state = State(latency_s, faults, random.Random(faults.seed))
    config = uvicorn.Config(
        build_app(state),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
        backlog=2048,
    )
    return uvicorn.Server(config), state


class OfflineServer:
    """Context manager running the stand-in; `base_url` ends in /v1 like every provider URL.

    `in_process=True` (default) runs uvicorn in a daemon thread of this process; `False` starts a
    separate Python process, which benchmarks and kill tests use.
    """

    def __init__(
        self,
        latency_s: float = 0.0,
        faults: Faults | None = None,
        in_process: bool = True,
    ) -> None:
        self.latency_s = latency_s
        self.faults = faults or Faults()
        self.in_process = in_process
        self.base_url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._state: Any = None

    def __enter__(self) -> OfflineServer:
        if self.in_process:
            self._start_thread()
        else:
            self._start_process()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start_thread(self) -> None:
        sock = _bind()
        port = sock.getsockname()[1]
        self._server, self._state = _server(self.latency_s, self.faults)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True, name="llm-offline"
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("offline LLM server did not start within 10 s")
            time.sleep(0.005)
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def _start_process(self) -> None:
        cmd = [
            sys.executable,
            "-c",
            "from tardis_assets.lib.llm.offline_server import main; main()",
            "--latency-s",
            str(self.latency_s),
            "--faults",
            self.faults.to_json(),
        ]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.close()
            raise RuntimeError(f"offline LLM server process failed to start (said {line!r})")
        self.base_url = line
        deadline = time.monotonic() + 10
        while True:
            try:
                self.request_count()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def close(self) -> None:
        """Stop the server (idempotent)."""
        if self._server is not None and self._thread is not None:
            if self._state is not None:
                self._state.closing = True
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    @property
    def root_url(self) -> str:
        return self.base_url.removesuffix("/v1")

    def stats(self) -> dict[str, Any]:
        """Counters and the per-request log (arrival time, model, idempotency key, fault,
        usage, whether it was billed or replayed), plus batch uploads and batches."""
        return httpx.get(f"{self.root_url}/_stats", timeout=30).json()

    def request_count(self) -> int:
        """Chat-completion requests served so far."""
        return int(self.stats()["chat_requests"])

    def set_faults(self, faults: Faults) -> None:
        """Change the fault knobs of the running server."""
        self.faults = faults
        httpx.post(f"{self.root_url}/_faults", content=faults.to_json(), timeout=30)


def main(argv: list[str] | None = None) -> None:
    """Run the stand-in in the foreground; prints its base URL on the first line of stdout."""
    parser = argparse.ArgumentParser(description="offline OpenAI-compatible LLM stand-in")
    parser.add_argument("--latency-s", type=float, default=0.0)
    parser.add_argument("--faults", default=Faults().to_json())
    args = parser.parse_args(argv)
    sock = _bind()
    server, _ = _server(args.latency_s, Faults.from_json(args.faults))
    print(f"http://127.0.0.1:{sock.getsockname()[1]}/v1", flush=True)
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
