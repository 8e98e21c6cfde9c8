"""Execution benchmark: one synthetic day of ticks, from tardis CSV to result, vs hftbacktest.

A synthetic instrument-day of ``--events`` rows (trades + quotes + incremental_book_L2, tardis
CSV; from the project's synthetic market when it can write one, else a compact generator here)
is run through, each side in its own child process so its peak RSS is its own:

* ours: ``ingest_file`` of each CSV into the lake (one child), then the LLM-signal strategy
  (seeded signals with realistic latencies) replayed from the lake with market orders
  (another child): `lake_market` + `run_execution`;
* hftbacktest 2.4.4 (``bench`` extra): ``tardis.convert`` of the trades and L2 files (its
  converter takes no quotes file), then the same decisions (the same signals through the same
  rules) sent as market orders by an njit strategy on its ``ROIVectorMarketDepthBacktest``,
  with the same latencies and ``NoPartialFillExchange``.

It prints both replays' events/s (each over the rows it replays) and their ratio, the
CSV-to-result time of both (hftbacktest's includes the JIT of its strategy, which its numba
cache does not keep between processes; ours is cached on disk), both peak RSS, the fill counts.
The last line is the summary. Targets (issue 11): >= 1.0x hftbacktest's events/s, our peak RSS
<= 1.0 GiB, our CSV-to-result <= 0.5x hftbacktest's convert + replay.

    .venv/bin/python bench/execution.py                    # 50M events
    .venv/bin/python bench/execution.py --events 2000000   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import polars as pl

DAY = date(2024, 1, 1)
EXCHANGE, SYMBOL = "binance-futures", "BTCUSDT"
TYPES = ("trades", "quotes", "incremental_book_L2")
ENTRY_MS, RESPONSE_MS = 10.0, 10.0
GIB = 1024**3
CHUNK = 1_000_000


# -- data ----------------------------------------------------------------------------------------
def count_rows(path: Path) -> int:
    """Data rows of a CSV file (lines minus the header)."""
    n = 0
    with path.open("rb") as f:
        while block := f.read(1 << 24):
            n += block.count(b"\n")
    return n - 1


def synthetic_writer():
    """The project's synthetic-market CSV writer, if this checkout has one."""
    try:
        from tardis_assets.lib.market.synthetic import SyntheticMarket, write_day_csv
    except ImportError:
        return None
    if not hasattr(SyntheticMarket, "with_events_per_day"):
        return None
    return SyntheticMarket, write_day_csv


def _written(result: dict) -> dict[str, Path]:
    """Paths of what the writer reports (a path, or an object with ``.path``, per type)."""
    return {t: Path(getattr(v, "path", v)) for t, v in result.items()}


def generate_synthetic(folder: Path, events: int) -> dict[str, Path] | None:
    """Write the day with the project's synthetic market, sized to ~``events`` rows.

    Its ``with_events_per_day`` budget also counts types not written here (snapshots, ticker)
    and is not linear in small sizes, so the size is found by the secant method: two probe
    days at a tenth and a fifth of the size, then up to three full days until one is within 5%
    of ``events``. Returns None when this checkout has no such writer (or it fails): the
    compact generator runs instead."""
    found = synthetic_writer()
    if found is None:
        return None
    market_cls, write_day_csv = found

    def write(target: float, where: Path) -> tuple[dict[str, Path], int]:
        m = market_cls().with_events_per_day(max(int(target), 10_000))
        paths = _written(write_day_csv(m, EXCHANGE, SYMBOL, DAY, where, TYPES, gz=False))
        return paths, sum(count_rows(p) for p in paths.values())

    try:
        points = []
        for asked in (events / 10, events / 5):
            with tempfile.TemporaryDirectory(dir=folder) as probe:
                points.append((asked, write(asked, Path(probe))[1]))
        for _ in range(3):
            (a1, r1), (a2, r2) = points[-2], points[-1]
            slope = (r2 - r1) / (a2 - a1) if r2 != r1 else r2 / a2
            asked = a2 + (events - r2) / slope
            paths, produced = write(asked, folder)
            points.append((asked, produced))
            if abs(produced - events) <= 0.05 * events:
                break
        return paths
    except Exception as exc:  # a work-in-progress generator must not stop the benchmark
        print(f"the synthetic market's CSV writer failed ({exc!r}); using the compact generator")
        for f in folder.glob("*"):
            if f.is_file():
                f.unlink()
        return None


def generate_compact(folder: Path, events: int, seed: int) -> dict[str, Path]:
    """A consistent enough tardis day: an L2 book on a random walk (90% of rows), trades at its
    touch (5%) and top-of-book quotes (5%), with lognormal feed latencies."""
    from tardis_assets.lib.market.tardis import column_names, tardis_filename

    rng = np.random.default_rng(seed)
    day0 = int(datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC).timestamp() * 1e6)
    n_l2, n_tr = int(events * 0.90), int(events * 0.05)
    n_q = events - n_l2 - n_tr
    paths = {t: folder / tardis_filename(EXCHANGE, t, DAY, SYMBOL, gz=False) for t in TYPES}
    files = {t: paths[t].open("w") for t in TYPES}
    try:
        for t, f in files.items():
            f.write(",".join(column_names(t)) + "\n")
        mid, price = 600_000, 0  # ticks of 0.1
        snap = pl.DataFrame(
            {
                "exchange": EXCHANGE,
                "symbol": SYMBOL,
                "timestamp": day0,
                "local_timestamp": day0 + 3_000,
                "is_snapshot": True,
                "side": ["bid"] * 50 + ["ask"] * 50,
                "price": [(mid - 1 - k) / 10 for k in range(50)]
                + [(mid + 1 + k) / 10 for k in range(50)],
                "amount": np.round(rng.lognormal(0.5, 0.8, 100), 3),
            }
        )
        files["incremental_book_L2"].write(snap.write_csv(include_header=False))
        for kind, total in (("incremental_book_L2", n_l2 - 100), ("trades", n_tr), ("quotes", n_q)):
            done = 0
            step_rng = np.random.default_rng(seed)  # the same price path for every type
            mids = mid + np.cumsum(step_rng.integers(-1, 2, 1_000_000))
            while done < total:
                n = min(CHUNK, total - done)
                q = (done + np.sort(rng.random(n)) * n) / total
                ts = day0 + 1_000 + (q * 86_390_000_000).astype(np.int64)
                lts = ts + rng.lognormal(np.log(3_000), 0.5, n).astype(np.int64).clip(200)
                order = np.argsort(lts, kind="stable")
                ts, lts = ts[order], lts[order]
                m = mids[(q[order] * (mids.size - 1)).astype(np.int64)]
                if kind == "incremental_book_L2":
                    bid = rng.random(n) < 0.5
                    off = rng.integers(1, 40, n)
                    p = np.where(bid, m - off, m + off) / 10
                    amt = np.where(
                        rng.random(n) < 0.2, 0.0, np.round(rng.lognormal(0.5, 0.8, n), 3)
                    )
                    frame = pl.DataFrame(
                        {
                            "exchange": EXCHANGE,
                            "symbol": SYMBOL,
                            "timestamp": ts,
                            "local_timestamp": lts,
                            "is_snapshot": False,
                            "side": np.where(bid, "bid", "ask"),
                            "price": p,
                            "amount": amt,
                        }
                    )
                elif kind == "trades":
                    buy = rng.random(n) < 0.5
                    frame = pl.DataFrame(
                        {
                            "exchange": EXCHANGE,
                            "symbol": SYMBOL,
                            "timestamp": ts,
                            "local_timestamp": lts,
                            "id": np.arange(price, price + n).astype(str),
                            "side": np.where(buy, "buy", "sell"),
                            "price": np.where(buy, m + 1, m - 1) / 10,
                            "amount": np.round(rng.lognormal(-3, 1, n), 3).clip(0.001),
                        }
                    )
                    price += n
                else:
                    frame = pl.DataFrame(
                        {
                            "exchange": EXCHANGE,
                            "symbol": SYMBOL,
                            "timestamp": ts,
                            "local_timestamp": lts,
                            "ask_amount": np.round(rng.lognormal(0.5, 0.8, n), 3),
                            "ask_price": (m + 1) / 10,
                            "bid_price": (m - 1) / 10,
                            "bid_amount": np.round(rng.lognormal(0.5, 0.8, n), 3),
                        }
                    )
                files[kind].write(frame.select(column_names(kind)).write_csv(include_header=False))
                done += n
    finally:
        for f in files.values():
            f.close()
    return paths


def make_signals(path: Path, seed: int) -> None:
    """A day of LLM signals: 1,440 one-minute windows x 3 kinds, 0.05-3 s model latency."""
    rng = np.random.default_rng(seed + 100)
    day0 = int(datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC).timestamp() * 1e6)
    n = 1440
    starts = day0 + np.arange(n, dtype=np.int64) * 60_000_000
    frames = []
    for kind in ("sentiment", "pattern", "risk"):
        lo = 0.0 if kind == "risk" else -1.0
        frames.append(
            pl.DataFrame(
                {
                    "exchange": EXCHANGE,
                    "symbol": SYMBOL,
                    "bar_start": starts,
                    "kind": kind,
                    "value": rng.uniform(lo, 1.0, n),
                    "confidence": rng.uniform(0.3, 1.0, n),
                    "status": "ok",
                    "available_at": starts + 60_000_000 + rng.integers(50_000, 3_000_000, n),
                }
            )
        )
    pl.concat(frames).with_columns(
        pl.col("bar_start", "available_at").cast(pl.Datetime("us", "UTC"))
    ).write_parquet(path)


def strategy_params():
    from tardis_assets.lib.backtest import LLMStrategyParams

    return LLMStrategyParams(
        w_sentiment=0.6,
        w_pattern=0.4,
        entry_threshold=0.45,
        exit_threshold=0.1,
        position_size=0.2,
        allow_short=True,
    )


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB


# -- children ------------------------------------------------------------------------------------
def child_ingest(csv_dir: Path, lake: Path) -> dict:
    from tardis_assets.lib.market.tardis import ingest_file, lake_path, tardis_filename

    t0 = time.perf_counter()
    rows = {}
    for t in TYPES:
        src = csv_dir / tardis_filename(EXCHANGE, t, DAY, SYMBOL, gz=False)
        rows[t] = ingest_file(src, t, lake_path(lake, t, EXCHANGE, SYMBOL, DAY), day=DAY).rows
    return {"ingest_s": time.perf_counter() - t0, "rows": rows, "rss_gib": peak_rss_gib()}


def child_replay(lake: Path, signals: Path) -> dict:
    from tardis_assets.lib.execution import (
        ExecutionConfig,
        frame_market,
        lake_market,
        run_execution,
    )

    cfg = ExecutionConfig(entry_latency_ms=ENTRY_MS, response_latency_ms=RESPONSE_MS)
    sig = pl.read_parquet(signals)
    params = strategy_params()
    # warm-up on a tiny in-memory day: loads the compiled kernels from numba's disk cache (or
    # compiles them once per install), as any later process would find them
    t0 = time.perf_counter()
    tiny = lake_market(lake, EXCHANGE, SYMBOL, DAY)
    head = {t: pl.read_parquet(p[0], n_rows=2_000) for t, p in tiny.parts.items()}
    warm = frame_market(EXCHANGE, SYMBOL, tiny.start_us, tiny.start_us + 120_000_000, head)
    run_execution(warm, sig.head(0), params, cfg)
    jit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = run_execution(lake_market(lake, EXCHANGE, SYMBOL, DAY), sig, params, cfg)
    replay_s = time.perf_counter() - t0
    return {
        "replay_s": replay_s,
        "warmup_s": jit_s,
        "rows": int(res.stats["rows"]),
        "fills": res.n_fills,
        "orders": res.orders.height,
        "pnl": res.pnl["pnl"],
        "rss_gib": peak_rss_gib(),
    }


def child_hftbacktest(csv_dir: Path, signals: Path) -> dict:
    from hftbacktest import (
        GTC,
        MARKET,
        BacktestAsset,
        ROIVectorMarketDepthBacktest,
    )
    from hftbacktest.data.utils import tardis
    from numba import njit

    from tardis_assets.lib.execution import decision_plan
    from tardis_assets.lib.market.tardis import tardis_filename

    files = [
        csv_dir / tardis_filename(EXCHANGE, t, DAY, SYMBOL, gz=False)
        for t in ("trades", "incremental_book_L2")
    ]  # its docs: trades before depth
    rows = sum(count_rows(f) for f in files)
    t0 = time.perf_counter()
    data = tardis.convert([str(f) for f in files], buffer_size=int(rows * 1.05) + 1_000)
    convert_s = time.perf_counter() - t0

    day0 = int(datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC).timestamp() * 1e6)
    plan = decision_plan(
        pl.read_parquet(signals),
        strategy_params(),
        start_us=day0,
        end_us=day0 + 86_400_000_000,
        window_us=60_000_000,
    )
    times = plan.time.astype(np.int64) * 1000
    actions = plan.action.astype(np.int64)
    size = strategy_params().position_size

    @njit
    def strategy(hbt, times, actions, size, capital, out):  # pragma: no cover - compiled
        hbt.elapse(0)
        target = 0
        oid = 1
        fills = 0
        for i in range(times.shape[0]):
            now = hbt.current_timestamp
            if times[i] > now and hbt.elapse(times[i] - now) != 0:
                break
            a = actions[i]
            new = target
            if a == 1:
                new = 1
            elif a == -1:
                new = -1
            elif a == 2:
                new = 0
            if new == target:
                continue
            target = new
            depth = hbt.depth(0)
            mid = 0.5 * (depth.best_bid + depth.best_ask)
            want = np.floor(size * capital / mid / 0.001) * 0.001 * target
            diff = want - hbt.position(0)
            if abs(diff) >= 0.001:
                if diff > 0:
                    hbt.submit_buy_order(0, oid, depth.best_ask, diff, GTC, MARKET, False)
                else:
                    hbt.submit_sell_order(0, oid, depth.best_bid, -diff, GTC, MARKET, False)
                oid += 1
                fills += 1
            hbt.clear_inactive_orders(0)
        hbt.elapse(86_400_000_000_000)
        out[0] = hbt.position(0)
        return fills

    def backtest(events):
        asset = (
            BacktestAsset()
            .data(events)
            .linear_asset(1.0)
            .constant_order_latency(int(ENTRY_MS * 1e6), int(RESPONSE_MS * 1e6))
            .risk_adverse_queue_model()
            .no_partial_fill_exchange()
            .trading_value_fee_model(0.0002, 0.0005)
            .tick_size(0.1)
            .lot_size(0.001)
            .roi_lb(float(np.nanmin(events["px"][:10_000])) * 0.5)
            .roi_ub(float(np.nanmax(events["px"][:10_000])) * 1.5)
            .last_trades_capacity(0)
        )
        return ROIVectorMarketDepthBacktest([asset])

    out = np.zeros(1)
    t0 = time.perf_counter()
    strategy(backtest(data[:20_000].copy()), times[:2], actions[:2], size, 100_000.0, out)
    jit_s = time.perf_counter() - t0
    hbt = backtest(data)
    t0 = time.perf_counter()
    fills = strategy(hbt, times, actions, size, 100_000.0, out)
    replay_s = time.perf_counter() - t0
    return {
        "convert_s": convert_s,
        "jit_s": jit_s,
        "replay_s": replay_s,
        "rows": rows,
        "events": len(data),
        "fills": int(fills),
        "rss_gib": peak_rss_gib(),
    }


def run_child(*args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, env=os.environ.copy()
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- main ----------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--events", type=int, default=50_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "tardis_bench")
    ap.add_argument("--generator", choices=("auto", "synthetic", "compact"), default="auto")
    ap.add_argument("--skip-hftbacktest", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child", choices=("ingest", "replay", "hftbacktest"), help=argparse.SUPPRESS)
    ap.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--lake", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--signals", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child == "ingest":
        print(json.dumps(child_ingest(args.csv, args.lake)))
        return
    if args.child == "replay":
        print(json.dumps(child_replay(args.lake, args.signals)))
        return
    if args.child == "hftbacktest":
        print(json.dumps(child_hftbacktest(args.csv, args.signals)))
        return

    work = args.workdir / f"execution_{args.events}_seed{args.seed}_{args.generator}"
    csv_dir = work / "csv"
    done = work / "csv.done"
    if done.exists():
        print(f"reusing {csv_dir}")
        source = done.read_text().strip()
    else:
        shutil.rmtree(work, ignore_errors=True)
        csv_dir.mkdir(parents=True)
        t0 = time.perf_counter()
        paths = None
        if args.generator in ("auto", "synthetic"):
            paths = generate_synthetic(csv_dir, args.events)
            source = "the project's synthetic market (write_day_csv)"
        if paths is None:
            if args.generator == "synthetic":
                raise SystemExit("this checkout has no synthetic-market CSV writer")
            generate_compact(csv_dir, args.events, args.seed)
            source = "the benchmark's compact generator"
        done.write_text(source)
        print(f"generated the day with {source} in {time.perf_counter() - t0:.1f}s")
    rows = {}
    from tardis_assets.lib.market.tardis import tardis_filename

    for t in TYPES:
        rows[t] = count_rows(csv_dir / tardis_filename(EXCHANGE, t, DAY, SYMBOL, gz=False))
    total = sum(rows.values())
    print(
        f"day: {total} rows from {source} (" + ", ".join(f"{t} {n}" for t, n in rows.items()) + ")"
    )
    signals = work / "signals.parquet"
    make_signals(signals, args.seed)
    print(f"load average before timing: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")

    lake = work / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    ing = run_child("--child", "ingest", "--csv", str(csv_dir), "--lake", str(lake))
    rep = run_child("--child", "replay", "--lake", str(lake), "--signals", str(signals))
    if rep["rows"] != total:
        raise RuntimeError(f"replayed {rep['rows']} rows, the CSV files hold {total}")
    ours_eps = rep["rows"] / rep["replay_s"]
    ours_total = ing["ingest_s"] + rep["replay_s"]
    ours_rss = max(ing["rss_gib"], rep["rss_gib"])
    print(
        f"ours: ingest {ing['ingest_s']:.2f}s (peak RSS {ing['rss_gib']:.2f} GiB), replay "
        f"{rep['replay_s']:.2f}s = {ours_eps / 1e6:.2f}M events/s (peak RSS "
        f"{rep['rss_gib']:.2f} GiB; kernels from numba's cache in {rep['warmup_s']:.2f}s), "
        f"{rep['orders']} orders, {rep['fills']} fills, PnL {rep['pnl']:.2f}"
    )
    if args.skip_hftbacktest:
        print(
            f"SUMMARY execution {total} events {rep['replay_s']:.2f}s {ours_eps / 1e6:.2f}M/s "
            f"rss {ours_rss:.2f} GiB | hftbacktest skipped | n/a"
        )
        return
    hb = run_child("--child", "hftbacktest", "--csv", str(csv_dir), "--signals", str(signals))
    hb_eps = hb["rows"] / hb["replay_s"]
    hb_total = hb["convert_s"] + hb["jit_s"] + hb["replay_s"]
    print(
        f"hftbacktest: convert {hb['convert_s']:.2f}s, strategy JIT {hb['jit_s']:.2f}s, replay "
        f"{hb['replay_s']:.2f}s = {hb_eps / 1e6:.2f}M events/s over its {hb['rows']} rows "
        f"(trades + L2; {hb['events']} events after its exchange/local split), peak RSS "
        f"{hb['rss_gib']:.2f} GiB, {hb['fills']} market orders"
    )
    ratio = ours_eps / hb_eps
    print(
        f"replay events/s: ours {ours_eps / 1e6:.2f}M | hftbacktest {hb_eps / 1e6:.2f}M | "
        f"{ratio:.2f}x (target >= 1.0x)"
    )
    print(
        f"CSV to result: ours {ours_total:.2f}s | hftbacktest {hb_total:.2f}s "
        f"({hb['convert_s'] + hb['replay_s']:.2f}s without its JIT) | "
        f"{ours_total / hb_total:.2f}x ({ours_total / (hb['convert_s'] + hb['replay_s']):.2f}x "
        "without its JIT; target <= 0.5x)"
    )
    print(
        f"peak RSS: ours {ours_rss:.2f} GiB (target <= 1.0) | hftbacktest {hb['rss_gib']:.2f} GiB"
    )
    print(f"fills: ours {rep['fills']} | hftbacktest {hb['fills']}")
    print(
        f"SUMMARY execution {total} events {rep['replay_s']:.2f}s {ours_eps / 1e6:.2f}M/s rss "
        f"{ours_rss:.2f} GiB | hftbacktest {hb_eps / 1e6:.2f}M/s | {ratio:.2f}x"
    )


if __name__ == "__main__":
    main()
