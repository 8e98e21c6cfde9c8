"""The fork server (``lib/cluster/forkserver.py``) with real processes: children are forked from
the server with its preloaded modules, get their own argv and session, never write into the
protocol, outlive the server, and a dead server is replaced on the next command."""

from __future__ import annotations

import io
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tardis_assets.lib.cluster.forkserver import ForkServer, ForkServerError, exit_code, serve

# A command module: records what the forked process sees, after an optional delay, and prints a
# lot to stdout (which must not reach the protocol pipe).
PROBE = """
import json, os, sys, time
out, delay = sys.argv[1], float(sys.argv[2])
print("noise " * 2000)
time.sleep(delay)
record = {
    "pid": os.getpid(),
    "ppid": os.getppid(),
    "sid": os.getsid(0),
    "argv": sys.argv[1:],
    "preloaded": "tomllib" in sys.modules,
    "name": __name__,
}
with open(out + ".tmp", "w") as f:
    json.dump(record, f)
os.replace(out + ".tmp", out)
"""


BURN_CPU_S = 0.5
BURN = f"""
import time
end = time.process_time() + {BURN_CPU_S}
while time.process_time() < end:
    pass
"""


def wait_file(path: Path, timeout_s: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} not written"
        time.sleep(0.02)
    return json.loads(path.read_text())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ForkServer]:
    (tmp_path / "probe_cmd.py").write_text(PROBE)
    fs = ForkServer(("tomllib",), cwd=str(tmp_path))
    try:
        yield fs
    finally:
        fs.close()


def test_children_are_forked_with_the_preloaded_modules(server: ForkServer, tmp_path: Path) -> None:
    out = tmp_path / "one.json"
    pid = server.fork("probe_cmd", [str(out), "0"])
    record = wait_file(out)
    assert server.process is not None
    assert record["pid"] == pid
    assert record["ppid"] == server.process.pid
    assert record["sid"] == pid  # a session of its own: a signal to the server's group misses it
    assert record["argv"] == [str(out), "0"]
    assert record["name"] == "__main__"
    assert record["preloaded"]


def test_child_output_does_not_reach_the_protocol(server: ForkServer, tmp_path: Path) -> None:
    pids = [server.fork("probe_cmd", [str(tmp_path / f"{i}.json"), "0"]) for i in range(5)]
    records = [wait_file(tmp_path / f"{i}.json") for i in range(5)]
    assert [r["pid"] for r in records] == pids
    assert len(set(pids)) == 5


def test_children_outlive_the_server(server: ForkServer, tmp_path: Path) -> None:
    out = tmp_path / "late.json"
    pid = server.fork("probe_cmd", [str(out), "1.5"])
    server.close()
    assert server.process is None
    assert wait_file(out)["pid"] == pid


def test_ended_children_are_reaped_and_their_cpu_counted(
    server: ForkServer, tmp_path: Path
) -> None:
    (tmp_path / "burn_cmd.py").write_text(BURN)
    pid = server.fork("burn_cmd", [])
    assert server.process is not None
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists():  # a zombie would keep its /proc entry
        assert time.monotonic() < deadline, f"child {pid} not reaped"
        time.sleep(0.05)
    # The kernel adds a reaped child's CPU to its parent's cutime + cstime.
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    children_cpu = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    assert children_cpu >= BURN_CPU_S * 0.8


def test_a_dead_server_is_replaced(server: ForkServer, tmp_path: Path) -> None:
    server.fork("probe_cmd", [str(tmp_path / "a.json"), "0"])
    wait_file(tmp_path / "a.json")
    assert server.process is not None
    first = server.process.pid
    os.kill(first, signal.SIGKILL)
    server.process.wait()
    pid = server.fork("probe_cmd", [str(tmp_path / "b.json"), "0"])
    record = wait_file(tmp_path / "b.json")
    assert record["pid"] == pid and record["ppid"] != first


def test_a_preload_that_fails_is_one_clear_error(tmp_path: Path) -> None:
    fs = ForkServer(("no_such_module_anywhere",), cwd=str(tmp_path))
    with pytest.raises(ForkServerError, match="exited with status 1"):
        fs.fork("probe_cmd", [])
    fs.close()


def test_a_preload_that_starts_a_thread_is_refused(tmp_path: Path) -> None:
    (tmp_path / "threaded_lib.py").write_text(
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
    )
    fs = ForkServer(("threaded_lib",), cwd=str(tmp_path))
    with pytest.raises(ForkServerError, match="exited with status 1"):
        fs.fork("probe_cmd", [])
    fs.close()


def test_a_bad_request_is_answered_not_forked() -> None:
    answers = io.StringIO()
    try:
        serve(io.StringIO('not json\n{"module": "x"}\n'), answers)
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # serve() set its reaper in this process
    lines = [json.loads(line) for line in answers.getvalue().splitlines()]
    assert lines[0] == {"ready": os.getpid()}
    assert [("error" in line) for line in lines[1:]] == [True, True]


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (3, 3), ("bad input", 1)])
def test_exit_code(code: object, status: int) -> None:
    assert exit_code(SystemExit(code)) == status
