"""LLM cost per instrument-day: the baseline design vs the incremental default, one synthetic week.

One instrument, seven synthetic days, the offline stand-in in its own process (priced at the
routing table's list prices, cached tokens at the cached rate). (a) baseline: one call per
window and kind, the original prompts; (b) the new default (lib/signals/settings.py): sentiment
per unique headline, pattern/risk every 15 windows. A few variants justify the default cadence.
Each design runs on a fresh cache; the estimate made before each run is printed next to its
actual cost. The LLM strategy is backtested over the week on each signal set with the daily
backtest's parameters, so the price of the cadence is visible.

    .venv/bin/python bench/llm_cost.py [--days 7] [--no-variants]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from tardis_assets.lib.backtest import LLMStrategyParams, run_llm_strategy
from tardis_assets.lib.features.bars import bars_from_trades
from tardis_assets.lib.features.indicators import with_indicators
from tardis_assets.lib.llm import KINDS, GatewayConfig, OfflineServer
from tardis_assets.lib.llm.offline_answers import billed_usd
from tardis_assets.lib.llm.routing import load_routing
from tardis_assets.lib.market.synthetic import SyntheticMarket
from tardis_assets.lib.signals import SignalSettings, compute_partition, estimate_range, ledger_rows

EXCHANGE, SYMBOL = "binance-futures", "BTCUSDT"
FIRST_DAY = date(2025, 3, 3)  # after every model cutoff of the default routing table
# As the daily backtest asset uses them (its StrategyConfig defaults).
PARAMS = LLMStrategyParams(
    w_sentiment=1.0,
    w_pattern=0.2,
    entry_threshold=0.5,
    exit_threshold=0.05,
    min_confidence=0.3,
    max_risk=0.8,
    holding_bars=15,
)


def week(days: int) -> list[tuple[date, pl.DataFrame, pl.DataFrame]]:
    market = SyntheticMarket()
    out = []
    for n in range(days):
        day = FIRST_DAY + timedelta(days=n)
        trades = market.trades(EXCHANGE, SYMBOL, day)
        if "seq" not in trades.columns:  # arrival order, as ingest records it
            trades = trades.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("seq"))
        bars = with_indicators(bars_from_trades(trades, 60, day))
        out.append((day, bars, market.news(day, [SYMBOL])))
    return out


def run(name: str, settings: SignalSettings, inputs, base_url: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = GatewayConfig(base_url=base_url, cache_path=Path(tmp) / "cache.sqlite")
        estimate = estimate_range(cfg, settings, inputs)
        t0 = time.perf_counter()
        signals = []
        for day, bars, news in inputs:
            for kind in KINDS:
                part = compute_partition(cfg, settings, bars, news, day, kind)
                if part.failure is not None:
                    raise SystemExit(f"{name}: {part.sentence()}")
                signals.append(part.signals)
        elapsed = time.perf_counter() - t0
        ledger = pl.concat(
            [ledger_rows(cfg.cache_path, day, kind) for day, _, _ in inputs for kind in KINDS]
        )
    sig = pl.concat(signals)
    bars = pl.concat([b for _, b, _ in inputs])
    result = run_llm_strategy(bars, sig, PARAMS)
    sentiment = sig.filter(pl.col("kind") == "sentiment")
    with_news = sentiment.filter(pl.col("headlines") > 0)
    days = len(inputs)
    return {
        "name": name,
        "calls": ledger.height / days,
        "usd": float(ledger["cost_usd"].sum()) / days,
        "tokens_in": int(ledger["tokens_in"].sum()) / days,
        "tokens_cached": int(ledger["tokens_cached"].sum()) / days,
        "tokens_out": int(ledger["tokens_out"].sum()) / days,
        "estimate_usd": estimate.usd_online / days,
        "estimate_batch_usd": estimate.usd_batch / days,
        "news_windows": with_news.height,
        "news_windows_with_view": with_news.filter(pl.col("status") == "ok").height,
        "sharpe": result.metrics["sharpe"],
        "total_return": result.metrics["total_return"],
        "trades": result.n_trades,
        "seconds": elapsed,
    }


def line(r: dict) -> str:
    return (
        f"{r['name']:<28} {r['calls']:8.1f} calls ${r['usd']:8.4f} (est ${r['estimate_usd']:.4f}, "
        f"batch ${r['estimate_batch_usd']:.4f}) in {r['tokens_in']:9.0f} cached "
        f"{r['tokens_cached']:5.0f} out {r['tokens_out']:7.0f} | news windows with a view "
        f"{r['news_windows_with_view']}/{r['news_windows']} | sharpe {r['sharpe']:7.2f} "
        f"return {r['total_return']:+.4f} trades {r['trades']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--no-variants", action="store_true")
    args = parser.parse_args()
    inputs = week(args.days)
    default = SignalSettings()
    designs = [("baseline (every window)", SignalSettings(design="baseline")),
               (f"default (cadence {default.cadence_windows})", default)]  # fmt: skip
    if not args.no_variants:
        designs += [
            ("cadence 5", dataclasses.replace(default, cadence_windows=5)),
            ("cadence 10", dataclasses.replace(default, cadence_windows=10)),
            ("cadence 30", dataclasses.replace(default, cadence_windows=30)),
            ("cadence 60", dataclasses.replace(default, cadence_windows=60)),
            ("cadence 15 + vol trigger", dataclasses.replace(default, trigger_volatility=0.0015)),
            ("cadence 1, packed 8", dataclasses.replace(default, cadence_windows=1, pack_size=8)),
        ]
    results = []
    prices = load_routing().models
    for name, settings in designs:
        # A fresh stand-in per design: its idempotency store would answer a key another design
        # already sent without billing it, and its bill is the check of the ledger.
        with OfflineServer(in_process=False) as srv:
            results.append(run(name, settings, inputs, srv.base_url))
            billed = billed_usd(srv.stats()["log"], prices) / args.days
        print(line(results[-1]) + f" | billed ${billed:.4f}", flush=True)
    base, new = results[0], results[1]
    cheaper = base["usd"] / new["usd"]
    fewer = base["calls"] / new["calls"]
    print(
        f"SUMMARY llm_cost {new['usd']:.4f}/instrument-day ({new['calls']:.0f} calls) | baseline "
        f"{base['usd']:.4f} ({base['calls']:.0f}) | {cheaper:.1f}x cheaper, "
        f"{fewer:.1f}x fewer calls | sharpe {new['sharpe']:.2f} vs {base['sharpe']:.2f}"
    )


if __name__ == "__main__":
    main()
