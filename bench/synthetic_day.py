"""Synthetic-market benchmark: one instrument-day of N events, all five types, to tardis CSV.

Generates trades, quotes, incremental_book_L2, book_snapshot_25 (every 100 ms of exchange time
when the book changed) and derivative_ticker from one simulated order book, sized with
``SyntheticMarket.with_events_per_day``, and streams them to tardis-dev named files in a
temporary folder. Prints the rows of each type, the wall time and this process's peak RSS; the
last line is the summary. Target (issue 11): peak RSS <= 1.0 GiB at 50M events.

    python bench/synthetic_day.py                     # 50M events, .csv.gz
    python bench/synthetic_day.py --events 5000000 --plain
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

DAY = date(2025, 3, 1)
EXCHANGE, SYMBOL = "binance-futures", "BTCUSDT"
GIB = 1024**3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--events", type=int, default=50_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--plain", action="store_true", help="write .csv instead of .csv.gz")
    ap.add_argument("--max-rows", type=int, default=None, help="rows per chunk and type")
    ap.add_argument("--workdir", type=Path, default=None, help="parent of the temp folder")
    args = ap.parse_args()

    from tardis_assets.lib.market.synthetic import (
        DEFAULT_MAX_ROWS,
        SyntheticMarket,
        write_day_csv,
    )

    market = SyntheticMarket(seed=args.seed, snapshot_interval_ms=100).with_events_per_day(
        args.events
    )
    print(
        f"market: {market.trades_per_day} trades and {market.book_updates_per_day} book updates "
        f"per day, snapshots every {market.snapshot_interval_ms} ms, ticker every "
        f"{market.ticker_interval_ms} ms"
    )
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="synthetic-day-") as folder:
        t0 = time.perf_counter()
        files = write_day_csv(
            market,
            EXCHANGE,
            SYMBOL,
            DAY,
            folder,
            gz=not args.plain,
            max_rows=args.max_rows or DEFAULT_MAX_ROWS,
        )
        seconds = time.perf_counter() - t0
        total = 0
        for data_type, written in files.items():
            size = written.path.stat().st_size / 2**20
            print(
                f"{data_type:>20}: {written.rows:>11,} rows  {size:>8.0f} MiB  {written.path.name}"
            )
            total += written.rows
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB
    print(
        f"{total:,} events in {seconds:.1f}s ({total / seconds / 1e6:.2f}M events/s), "
        f"peak RSS {rss:.2f} GiB"
    )
    print(f"SUMMARY synthetic {total} events {seconds:.1f}s rss {rss:.2f}")


if __name__ == "__main__":
    main()
