"""Download wiring through the real tardis-dev client against a loopback datasets server."""

from __future__ import annotations

import gzip
import logging
import threading
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tardis_assets.lib.market.tardis import find_input, read_file, tardis_filename
from tardis_assets.lib.market.tardis.download import (
    API_KEY_ENV,
    TardisDownloadError,
    download_allowed,
    download_day,
)

tardis_dev = pytest.importorskip("tardis_dev", reason="the [tardis] extra is not installed")

SECRET = "td-SECRET-key-0123456789"
CSV = (
    "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
    "binance-futures,BTCUSDT,1704067200000000,1704067200001000,1,buy,42000.5,0.01\n"
    "binance-futures,BTCUSDT,1704067201000000,1704067201001000,2,sell,42000.4,0.02\n"
)


class _Datasets(BaseHTTPRequestHandler):
    """Serves /v1/{exchange}/{type}/{YYYY/MM/DD}/{SYMBOL}.csv.gz like the datasets API."""

    files: ClassVar[dict[str, bytes]] = {}
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        auth = self.headers.get("Authorization")
        type(self).seen.append((self.path, auth))
        body = type(self).files.get(self.path.split("?")[0])
        if self.path.startswith("/v1/broken/"):
            self._reply(500, b"internal error")  # the client retries these with long pauses
        elif self.path.startswith("/v1/echo/"):
            # a hostile server that echoes the credentials back in its error body
            self._reply(401, f"unauthorized: {auth}".encode())
        elif body is None:
            self._reply(404, b"not found")
        else:
            self._reply(200, body, "application/gzip")

    def _reply(self, code: int, body: bytes, ctype: str = "text/plain") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    _Datasets.files = {
        "/v1/binance-futures/trades/2024/01/01/BTCUSDT.csv.gz": gzip.compress(CSV.encode()),
        "/v1/binance-futures/trades/2024/01/02/BTCUSDT.csv.gz": gzip.compress(CSV.encode()),
    }
    _Datasets.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Datasets)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_names_match_the_clients_own_naming() -> None:
    for symbol in ("BTCUSDT", "BTC-PERPETUAL", "BTC/USD", "XBTUSD:XBT"):
        day = date(2024, 1, 1)
        client_symbol = symbol.replace(":", "-").replace("/", "-").upper()
        client = tardis_dev.default_file_name(
            "binance-futures", "trades", datetime(2024, 1, 1), client_symbol, "csv"
        )
        assert client == tardis_filename("binance-futures", "trades", day, symbol)


def test_first_of_month_without_key(endpoint: str, tmp_path: Path) -> None:
    day = date(2024, 1, 1)
    path = download_day(tmp_path, "binance-futures", "trades", day, "btcusdt", endpoint=endpoint)
    assert path == tmp_path / "binance-futures_trades_2024-01-01_BTCUSDT.csv.gz"
    assert find_input(tmp_path, "binance-futures", "trades", day, "BTCUSDT") == path
    assert read_file(path, "trades", day=day).height == 2
    assert _Datasets.seen == [("/v1/binance-futures/trades/2024/01/01/BTCUSDT.csv.gz", None)]
    # a second call finds the file and does not download again
    download_day(tmp_path, "binance-futures", "trades", day, "BTCUSDT", endpoint=endpoint)
    assert len(_Datasets.seen) == 1


def test_other_days_need_a_key(
    endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = date(2024, 1, 2)
    assert not download_allowed(day, None) and download_allowed(day, "k")
    with pytest.raises(TardisDownloadError, match="first day of a month"):
        download_day(tmp_path, "binance-futures", "trades", day, "BTCUSDT", endpoint=endpoint)
    assert _Datasets.seen == []
    monkeypatch.setenv(API_KEY_ENV, SECRET)
    path = download_day(tmp_path, "binance-futures", "trades", day, "BTCUSDT", endpoint=endpoint)
    assert path.name == "binance-futures_trades_2024-01-02_BTCUSDT.csv.gz"
    assert _Datasets.seen[-1][1] == f"Bearer {SECRET}"


def test_key_never_in_errors_or_logs(
    endpoint: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TardisDownloadError) as info:
        download_day(
            tmp_path, "echo", "trades", date(2024, 1, 2), "BTCUSDT", api_key=SECRET,
            endpoint=endpoint,
        )  # fmt: skip
    assert "401" in str(info.value) or "unauthorized" in str(info.value)
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert SECRET not in caplog.text
    assert _Datasets.seen[-1][1] == f"Bearer {SECRET}"  # the key was sent, only as the header
    assert list(tmp_path.iterdir()) == []


def test_missing_day_is_reported(endpoint: str, tmp_path: Path) -> None:
    with pytest.raises(TardisDownloadError, match="404"):
        download_day(
            tmp_path, "binance-futures", "quotes", date(2024, 2, 1), "BTCUSDT", endpoint=endpoint
        )
    assert list(tmp_path.iterdir()) == []


def test_deadline_bounds_client_retries(endpoint: str, tmp_path: Path) -> None:
    with pytest.raises(TardisDownloadError, match=r"within 1\.5s"):
        download_day(
            tmp_path, "broken", "trades", date(2024, 1, 1), "BTCUSDT", endpoint=endpoint,
            deadline_s=1.5,
        )  # fmt: skip
    assert _Datasets.seen and all(path.startswith("/v1/broken/") for path, _ in _Datasets.seen)
    assert list(tmp_path.iterdir()) == []
