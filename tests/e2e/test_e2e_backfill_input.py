"""Bad input to the backfill command: a clear message, a non-zero exit, and nothing submitted.

"Nothing submitted" is observed, not assumed: ``--url`` points at a real loopback HTTP server
that records every request it receives, and it must receive none.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tardis_assets.cli import main as cli_main
from tardis_assets.operate.backfill import BackfillInputError, local_request

pytestmark = pytest.mark.e2e


class _Recorder(BaseHTTPRequestHandler):
    """Answers every request with 500 and remembers it (a would-be Dagster webserver)."""

    def _record(self) -> None:
        self.server.seen.append(f"{self.command} {self.path}")  # type: ignore[attr-defined]
        self.send_response(500)
        self.end_headers()

    do_GET = do_POST = _record

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        return


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.seen  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


TODAY = datetime.now(UTC).date()


def main(argv: list[str]) -> int:
    return cli_main(["backfill", *argv])


BAD = [
    (
        ["--from", "2025-03-01", "--to", "2025-03-02", "--select", "bars,no_such_asset"],
        ["unknown asset", "no_such_asset", "--select", "llm_signals"],
    ),
    (["--from", "2999-01-01", "--to", "2999-01-02"], ["--to 2999-01-02", "future"]),
    (
        ["--from", TODAY.isoformat(), "--to", TODAY.isoformat()],
        [
            f"--to {TODAY}",
            f"newest complete UTC day (last daily partition) is {TODAY - timedelta(1)}",
        ],
    ),
    (
        ["--from", "2025-03-05", "--to", "2025-03-01"],
        ["--from 2025-03-05 is after --to 2025-03-01"],
    ),
    (["--from", "2025-3-1x", "--to", "2025-03-02"], ["--from '2025-3-1x'", "YYYY-MM-DD"]),
    (["--from", "2019-12-31", "--to", "2020-01-02"], ["before the first partition 2020-01-01"]),
]


@pytest.mark.parametrize(
    ("argv", "expected"),
    BAD,
    ids=[
        "unknown-asset",
        "future",
        "today-not-over",
        "from-after-to",
        "not-a-date",
        "before-start",
    ],
)
def test_bad_input_exits_2_and_submits_nothing(
    argv: list[str],
    expected: list[str],
    recorder: tuple[str, list[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, seen = recorder
    code = main([*argv, "--url", url])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("backfill: "), err
    for fragment in expected:
        assert fragment in err, (fragment, err)
    assert seen == [], f"bad input reached the server: {seen}"


def test_valid_request_reaches_the_server(
    recorder: tuple[str, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """The recorder does see a valid request (so the empty lists above mean something)."""
    url, seen = recorder
    code = main(["--from", "2025-03-01", "--to", "2025-03-02", "--url", url])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "no Dagster webserver answers" in err and url in err, err
    assert seen and all(s.startswith("POST /graphql") for s in seen), seen


def test_request_expands_days_and_keeps_selection(registry) -> None:
    request = local_request("2025-02-27", "2025-03-02", " bars, llm_signals ,bars", registry)
    assert request.partition_names == ["2025-02-27", "2025-02-28", "2025-03-01", "2025-03-02"]
    assert request.assets == ("bars", "llm_signals")
    # By default every day-partitioned asset; range-level research assets are not backfilled.
    default = local_request("2025-03-01", "2025-03-01", None, registry).assets
    assert {"raw_trades", "raw_quotes", "news", "bars", "llm_signals"} <= set(default)
    assert "backtest_results" in default and "strategy_optimization" not in default
    assert local_request("2025-03-01", "2025-03-01", "bars,", registry).assets == ("bars",)
    with pytest.raises(BackfillInputError, match="unknown asset"):
        local_request("2025-03-01", "2025-03-01", "Bars", registry)


def test_process_exit_code_on_bad_input(tmp_path: Path) -> None:
    """The real process: exit status 2 and the message on stderr, nothing on stdout."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tardis_assets.cli",
            "backfill",
            "--from",
            "2025-03-02",
            "--to",
            "2025-03-01",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "backfill: --from 2025-03-02 is after --to 2025-03-01" in done.stderr
    assert done.stdout == ""
