"""Request builders shared by the LLM tests (imported by name: tests/llm is on sys.path)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime

from tardis_assets.lib.llm import KINDS, OfflineServer, Question, SignalRequest

# Recent bars (after every model cutoff in the default routing table).
BAR0_US = int(datetime(2026, 11, 20, tzinfo=UTC).timestamp() * 1_000_000)
MINUTE_US = 60_000_000


def make_requests(
    n_bars: int, kinds: tuple[str, ...] = KINDS, start_us: int = BAR0_US, symbol: str = "BTCUSDT"
) -> list[SignalRequest]:
    """Distinct, deterministic requests: n_bars x kinds; a bar's content depends only on its time
    (so overlapping ranges produce identical prompts)."""
    out = []
    first = (start_us - BAR0_US) // MINUTE_US
    for n in range(n_bars):
        i = first + n
        features = {
            "close": 100.0 + i,
            "rsi_14": float(15 + (i * 7) % 75),
            "macd": 0.1 * ((i % 5) - 2),
            "macd_signal": 0.0,
            "macd_hist": float((i % 7) - 3),
            "volatility_30": 0.0004 * (i % 11),
            "ret_1": 0.0001 * ((i % 9) - 4),
            "volume": None,
        }
        headlines = ("Bitcoin surges to a record high",) if i % 3 == 0 else ()
        if i % 5 == 0:
            headlines = (*headlines, "Exchange hack triggers selloff fears")
        for kind in kinds:
            out.append(
                SignalRequest(
                    kind,
                    "binance-futures",
                    symbol,
                    start_us + n * MINUTE_US,
                    MINUTE_US,
                    features,
                    headlines,
                )
            )
    return out


def make_questions(n_bars: int, kinds: tuple[str, ...] = ("pattern", "risk")) -> list[Question]:
    """Packed window questions for n_bars consecutive minutes (pack label: 8 bars each)."""
    from tardis_assets.lib.llm.guard import bar_date
    from tardis_assets.lib.llm.packing import window_item

    out = []
    for kind in kinds:
        for req in make_requests(n_bars, kinds=(kind,)):
            item = window_item(req.exchange, req.symbol, req.bar_start_us, req.window_us,
                               req.features)  # fmt: skip
            n = (req.bar_start_us - BAR0_US) // MINUTE_US
            out.append(
                Question(kind, item, req.bar_start_us, req.bar_start_us + req.window_us,
                         bar_date(req.bar_start_us), pack=f"{kind}|{n // 8}")
            )  # fmt: skip
    return out


def kill_after_requests(
    server: OfflineServer, child: subprocess.Popen, count: int, timeout_s: float = 120
) -> None:
    """SIGKILL ``child`` once the stand-in has received ``count`` requests: a crash mid-batch,
    at a point set by the server's own count rather than by a sleep."""
    deadline = time.monotonic() + timeout_s
    while server.request_count() < count:
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, f"only {server.request_count()} of {count} requests"
        time.sleep(0.005)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
