"""raw_trades downloads a missing day through the real tardis-dev client from a loopback
datasets server, then ingests it like any input file."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tardis_assets.defs.pipeline import run_layers
from tardis_assets.defs.resources import MarketResource

pytest.importorskip("tardis_dev", reason="the [tardis] extra is not installed")

T0 = 1740787200000000  # 2025-03-01T00:00Z, the free first day of the month
CSV = (
    "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
    f"binance-futures,BTCUSDT,{T0 + 1000},{T0 + 2000},1,buy,90000.5,0.01\n"
    f"binance-futures,BTCUSDT,{T0 + 61_000_000},{T0 + 61_001_000},2,sell,90001.0,0.02\n"
)
PATH = "/v1/binance-futures/trades/2025/03/01/BTCUSDT.csv.gz"


class _Datasets(BaseHTTPRequestHandler):
    requests: list[str] = []  # noqa: RUF012 - one server per test, reset by the fixture

    def do_GET(self) -> None:
        type(self).requests.append(self.path.split("?")[0])
        found = self.path.split("?")[0] == PATH
        body = gzip.compress(CSV.encode()) if found else b"not found"
        self.send_response(200 if found else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def datasets() -> Iterator[str]:
    _Datasets.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Datasets)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_missing_day_is_downloaded_then_ingested(registry, instance, resources, datasets):
    market = resources["market"].model_copy(
        update={
            "download_missing": True,
            "tardis_endpoint": datasets,
            "synthetic_when_missing": False,
        }
    )
    market = MarketResource(**market.model_dump())
    run = {**resources, "market": market}
    run_layers(registry, ["raw_trades"], "2025-03-01", run, instance, "INFO")
    assert PATH in _Datasets.requests
    stored = (
        resources["warehouse"]
        .warehouse()
        .read("SELECT source, rows, input_path FROM raw_files WHERE data_type = 'trades'")
    )
    assert stored.row(0)[:2] == ("file", 2)
    assert stored.row(0)[2].endswith("binance-futures_trades_2025-03-01_BTCUSDT.csv.gz")
