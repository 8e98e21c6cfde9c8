"""A process that imports libraries once and forks one child per command: ``python -m <module>``
without the interpreter start and the imports.

Why: every Dagster run is a process of its own (``python -m dagster api execute_run``), and on
a head node that launches thousands of runs most of each run's CPU is Python importing Dagster,
SQLAlchemy, Alembic, Celery and their dependencies again (3-4 CPU-s a run, measured on the
scale-out benchmark). A child forked from a process that already holds those modules starts
with them in memory (copy-on-write). The pattern is gunicorn's ``preload`` and the standard
library's ``multiprocessing`` forkserver; this one runs a module's ``__main__`` as a command
would, with its own argv, session and exit code.

What is preloaded is libraries, never the code location: a child imports the project's own code
from disk, as a fresh process would, so an edited definition is what the next run executes.

Protocol, one JSON object per line: the client writes ``{"module": m, "argv": [...]}`` to the
server's stdin and reads ``{"pid": n}`` (or ``{"error": text}``) from its stdout. The server's
own stdout and stdin are moved to private descriptors at start, so the children write to the
stderr the server was given (the launching process's log) and never into the protocol. The
server exits when its stdin closes (the launching process ended); children it forked run on,
each in its own session. The server reaps its children as they end (a SIGCHLD handler), so
the kernel adds their CPU time to the server's, as it does for any process that waits for its
children: whoever measures the launching process's tree sees the runs' CPU too.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import runpy
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

READY = "ready"
START_TIMEOUT_S = 120.0


class ForkServerError(RuntimeError):
    """The fork server could not start or did not answer (the message says which)."""


def exit_code(exc: SystemExit) -> int:
    """The process exit status ``sys.exit(value)`` stands for (a message means 1)."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


def run_child(module: str, argv: Sequence[str]) -> int:
    """Run ``module`` as ``python -m module *argv`` would, in this (forked) process."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the server's handler is not the command's
    os.setsid()
    sys.argv = [module, *argv]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        return exit_code(exc)
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def reap(*_: object) -> None:
    """Wait for every child that has ended (a SIGCHLD handler: one signal may stand for many)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def thread_count() -> int:
    """Threads of this process, native ones included (``threading`` sees only Python's)."""
    return len(os.listdir("/proc/self/task"))


def preload_modules(names: Sequence[str]) -> None:
    """Import ``names`` for every child to inherit.

    Forking copies only the calling thread, with every lock other threads held: a child could
    hang on one. So the server refuses to start if the imports left a second thread running.
    """
    for name in names:
        importlib.import_module(name)
    if (threads := thread_count()) > 1:
        raise ForkServerError(
            f"importing {', '.join(names)} started {threads - 1} thread(s); a process with "
            "threads cannot fork safely: preload fewer modules"
        )


def serve(requests: IO[str], answers: IO[str]) -> None:
    """Fork a child per request until ``requests`` closes."""
    signal.signal(signal.SIGCHLD, reap)
    answers.write(json.dumps({READY: os.getpid()}) + "\n")
    answers.flush()
    for line in requests:
        try:
            request = json.loads(line)
            module, argv = str(request["module"]), [str(a) for a in request["argv"]]
        except (ValueError, KeyError, TypeError) as exc:
            answers.write(json.dumps({"error": f"bad request {line.strip()!r}: {exc}"}) + "\n")
            answers.flush()
            continue
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                requests.close()
                answers.close()
                code = run_child(module, argv)
            finally:
                with contextlib.suppress(BaseException):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        answers.write(json.dumps({"pid": pid}) + "\n")
        answers.flush()


def main(preload: Sequence[str]) -> None:
    """The server process: the protocol on private copies of stdin/stdout, children's output
    to stderr, nothing on stdin."""
    requests = os.fdopen(os.dup(0), "r")
    answers = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    preload_modules(preload)
    serve(requests, answers)


@dataclass
class ForkServer:
    """The client side: one server process per interpreter, started on first use, restarted if
    it died; safe to call from several threads."""

    preload: tuple[str, ...]
    executable: str = sys.executable
    cwd: str | None = None
    process: subprocess.Popen | None = field(default=None, init=False)
    lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _start(self) -> subprocess.Popen:
        process = subprocess.Popen(
            [self.executable, "-m", __name__, *self.preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=self.cwd,
        )
        answer = self._answer(process)
        if READY not in answer:
            raise ForkServerError(f"the fork server did not start: {answer}")
        return process

    @staticmethod
    def _answer(process: subprocess.Popen) -> dict:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            code = process.wait(timeout=START_TIMEOUT_S)
            raise ForkServerError(
                f"the fork server (pid {process.pid}) exited with status {code}: see the log of "
                "the process that started it"
            )
        return json.loads(line)

    def _request(self, process: subprocess.Popen, module: str, argv: Sequence[str]) -> dict:
        assert process.stdin is not None
        process.stdin.write(json.dumps({"module": module, "argv": list(argv)}) + "\n")
        process.stdin.flush()
        return self._answer(process)

    def fork(self, module: str, argv: Sequence[str]) -> int:
        """Start ``python -m module *argv`` as a child of the server; returns its pid."""
        with self.lock:
            for attempt in (1, 2):
                if self.process is None or self.process.poll() is not None:
                    self.process = self._start()
                try:
                    answer = self._request(self.process, module, argv)
                    break
                except (BrokenPipeError, ForkServerError):
                    self.process = None  # died between two requests: start another once
                    if attempt == 2:
                        raise
        if "pid" not in answer:
            raise ForkServerError(f"the fork server refused the command: {answer.get('error')}")
        return int(answer["pid"])

    def close(self) -> None:
        """Stop the server (its children run on)."""
        with self.lock:
            if self.process is not None and self.process.poll() is None:
                assert self.process.stdin is not None
                with contextlib.suppress(BrokenPipeError):
                    self.process.stdin.close()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None


if __name__ == "__main__":
    main(sys.argv[1:])
