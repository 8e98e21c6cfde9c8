"""Arrival order is the order: first/last within a bar follow (timestamp, position in the file).

Real files have bursts of trades (and quote, book and ticker updates) that share one exchange
timestamp; tardis writes them in the order they were received. Every test goes through the real
ingest (CSV -> lake Parquet with its ``seq`` column) and the real bar and feature code, and
compares with a plain-Python reference that reads the CSV rows in order.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from pathlib import Path

import hypothesis.strategies as st
import polars as pl
from hypothesis import HealthCheck, given, settings

from tardis_assets.lib.days import day_start_us
from tardis_assets.lib.features.bars import bars_from_parquet
from tardis_assets.lib.features.microstructure import (
    book_imbalance_features,
    quote_features,
    ticker_features,
)
from tardis_assets.lib.market.tardis import column_names, ingest_file

DAY = date(2025, 3, 1)
T0 = day_start_us(DAY)
MINUTE = 60_000_000


def write_csv(path: Path, data_type: str, rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(column_names(data_type))
        for row in rows:
            out.writerow(["" if v is None else v for v in row])
    return path


def ingest(tmp: Path, data_type: str, rows: list[list[object]]) -> Path:
    src = write_csv(tmp / f"{data_type}.csv", data_type, rows)
    dest = tmp / "lake" / f"{data_type}.parquet"
    ingest_file(src, data_type, dest, day=DAY)
    return dest


def trade_rows(stamps: list[int], prices: list[float]) -> list[list[object]]:
    """Trades in file (= arrival) order; local_timestamp increases with the position."""
    return [
        [
            "binance-futures",
            "BTCUSDT",
            ts,
            T0 + 1_000 + i,
            str(i),
            "buy" if i % 3 else "sell",
            p,
            1.0,
        ]
        for i, (ts, p) in enumerate(zip(stamps, prices, strict=True))
    ]


def test_tied_trades_open_and_close_are_first_and_last_in_the_file(tmp_path: Path) -> None:
    # 400 trades in one millisecond of minute 0, then 400 in one millisecond of minute 1. Prices
    # are chosen so that the file's first/last differ from the sorted and the reversed order.
    burst = [T0 + 5_000] * 400 + [T0 + MINUTE + 7_000] * 400
    prices = [100.0 + ((i * 37) % 101) / 10 for i in range(800)]
    prices[0], prices[399], prices[400], prices[799] = 105.5, 103.3, 107.7, 101.1
    bars = bars_from_parquet(ingest(tmp_path, "trades", trade_rows(burst, prices)), 60)
    assert bars["open"].to_list() == [105.5, 107.7]
    assert bars["close"].to_list() == [103.3, 101.1]
    assert sorted(prices[:400])[-1] != 103.3 and prices[:400][::-1][0] == 103.3


def reference_bars(stamps: list[int], prices: list[float]) -> dict[int, tuple]:
    """open, high, low, close, volume, trades per bar, by (timestamp, file position)."""
    by_bar: dict[int, list[tuple[int, int, float]]] = defaultdict(list)
    for pos, (ts, p) in enumerate(zip(stamps, prices, strict=True)):
        by_bar[(ts // MINUTE) * MINUTE].append((ts, pos, p))
    out = {}
    for bar, rows in by_bar.items():
        rows.sort()
        ps = [p for _, _, p in rows]
        out[bar] = (ps[0], max(ps), min(ps), ps[-1], float(len(ps)), len(ps))
    return out


# Exchange timestamps from a handful of values (many ties), in an arbitrary order relative to
# arrival (feeds deliver some late), spread over three minutes of the day.
STAMPS = st.lists(
    st.sampled_from([T0 + k * 19_000_000 + jitter for k in range(9) for jitter in (0, 1)]),
    min_size=1,
    max_size=400,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(stamps=STAMPS, seed=st.integers(0, 10_000))
def test_bars_equal_a_plain_python_reference(tmp_path: Path, stamps: list[int], seed: int) -> None:
    prices = [round(100 + ((i * 7919 + seed) % 997) / 100, 2) for i in range(len(stamps))]
    bars = bars_from_parquet(ingest(tmp_path, "trades", trade_rows(stamps, prices)), 60)
    got = {
        row["bar_start"]: row
        for row in bars.with_columns(pl.col("bar_start").dt.epoch("us")).iter_rows(named=True)
    }
    want = reference_bars(stamps, prices)
    assert set(got) == set(want)
    for bar, (o, h, lo, c, vol, n) in want.items():
        row = got[bar]
        assert (row["open"], row["high"], row["low"], row["close"]) == (o, h, lo, c), bar
        assert (row["volume"], row["trades"]) == (vol, n)


def last_by_order(rows: list[tuple[int, int, float | None]]) -> float | None:
    """Last non-null value in (timestamp, position) order."""
    values = [v for _, _, v in sorted(rows, key=lambda r: (r[0], r[1])) if v is not None]
    return values[-1] if values else None


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    stamps=STAMPS,
    gaps=st.lists(st.booleans(), min_size=400, max_size=400),
    seed=st.integers(0, 10_000),
)
def test_quote_book_and_ticker_closes_follow_arrival_order(
    tmp_path: Path, stamps: list[int], gaps: list[bool], seed: int
) -> None:
    n = len(stamps)
    bid = [100 + ((i * 31 + seed) % 50) / 10 for i in range(n)]
    ask = [b + 0.1 + ((i * 17 + seed) % 7) / 10 for i, b in enumerate(bid)]
    # Some quotes miss a side (no spread, no mid): the close is the last complete one.
    ask_or_gap = [None if gaps[i] else a for i, a in enumerate(ask)]
    quotes = [
        ["binance-futures", "BTCUSDT", ts, T0 + 1_000 + i, 1.0, ask_or_gap[i], bid[i], 2.0]
        for i, ts in enumerate(stamps)
    ]
    feats = quote_features(pl.scan_parquet(ingest(tmp_path, "quotes", quotes))).collect()
    snaps = []
    for i, ts in enumerate(stamps):
        levels: list[object] = []
        for d in range(5):
            levels += [ask[i] + d / 10, 1.0 + i % 4, bid[i] - d / 10, 1.0 + (i * 3) % 5]
        snaps.append(["binance-futures", "BTCUSDT", ts, T0 + 1_000 + i, *levels])
    book = book_imbalance_features(
        pl.scan_parquet(ingest(tmp_path, "book_snapshot_5", snaps))
    ).collect()
    ticker = [
        [
            *("binance-futures", "BTCUSDT", ts, T0 + 1_000 + i, None),
            *(None if gaps[i] else (i - 200) / 1e5, None, 1000.0 + i, 100.0, 100.0, 100.0),
        ]
        for i, ts in enumerate(stamps)
    ]
    tick = ticker_features(pl.scan_parquet(ingest(tmp_path, "derivative_ticker", ticker))).collect()

    by_bar: dict[int, list[int]] = defaultdict(list)
    for pos, ts in enumerate(stamps):
        by_bar[(ts // MINUTE) * MINUTE].append(pos)

    def at(frame: pl.DataFrame, column: str) -> dict[int, float | None]:
        epoch = frame.with_columns(pl.col("bar_start").dt.epoch("us"))
        return dict(zip(epoch["bar_start"].to_list(), epoch[column].to_list(), strict=True))

    spread, mid = at(feats, "spread_close"), at(feats, "mid_close")
    imbalance, funding, oi = (
        at(book, "book_imbalance_close"),
        at(tick, "funding_rate"),
        at(tick, "open_interest"),
    )
    pairs = list(zip(ask_or_gap, bid, strict=True))
    spreads = [None if a is None else a - b for a, b in pairs]
    mids = [None if a is None else (a + b) / 2 for a, b in pairs]
    sizes = [(1.0 + i % 4, 1.0 + (i * 3) % 5) for i in range(n)]  # (ask, bid) at the touch
    imb = [(b - a) / (b + a) for a, b in sizes]
    rates = [None if gaps[i] else (i - 200) / 1e5 for i in range(n)]
    interest = [1000.0 + i for i in range(n)]
    for bar, positions in by_bar.items():
        keyed = [(stamps[p], p) for p in positions]

        def ref(values: list[float | None], keyed: list[tuple[int, int]] = keyed) -> float | None:
            return last_by_order([(t, p, values[p]) for t, p in keyed])

        assert spread[bar] == ref(spreads) and mid[bar] == ref(mids), bar
        assert imbalance[bar] == ref(imb), bar
        assert funding.get(bar) == ref(rates) and oi[bar] == ref(interest), bar
