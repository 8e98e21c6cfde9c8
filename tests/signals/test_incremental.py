"""The incremental design (issue 13) over real HTTP to the stand-in: what is asked when, paid
once, packed without losing paid answers, and priced before the run exactly as it is billed."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from signals_testkit import DAY, at, day_bars, news

from tardis_assets.lib.llm import Faults, GatewayConfig, OfflineServer
from tardis_assets.lib.llm.offline_answers import billed_usd
from tardis_assets.lib.llm.routing import load_routing
from tardis_assets.lib.signals import (
    LLM_SIGNALS,
    SignalSettings,
    compute_partition,
    estimate_range,
    ledger_rows,
)
from tardis_assets.lib.signals.aggregate import window_sentiment

SETTINGS = SignalSettings()


@pytest.fixture(scope="module")
def btc() -> pl.DataFrame:
    return day_bars(DAY)


def _two_instruments(btc: pl.DataFrame) -> pl.DataFrame:
    other = day_bars(DAY, symbol="BTC-PERPETUAL", exchange="deribit")
    return pl.concat([btc, other])


def test_headline_in_two_windows_and_two_instruments_is_paid_once(server, config, btc):
    story = "BTC rallies as spot ETF inflows surge to a record"
    items = news(
        (at(DAY, 9, 5, 10), story, ["BTC"]),
        (at(DAY, 14, 30, 2), story, ["BTC"]),  # the same story again, hours later
        (at(DAY, 14, 30, 40), "Exchange hack triggers selloff fears", ["BTC"]),
    )
    part = compute_partition(config, SETTINGS, _two_instruments(btc), items, DAY, "sentiment")
    with_news = part.signals.filter(pl.col("reason") == "headlines")
    assert with_news.height == 4  # two windows x two instruments
    assert with_news["status"].to_list() == ["ok"] * 4
    # Two distinct headlines were asked; the repeated story was paid once for all four rows.
    log = server.stats()["log"]
    assert part.calls == len(log) == 2  # one call per window holding new headlines
    ledger = ledger_rows(config.cache_path, DAY, "sentiment")
    assert ledger["items"].sum() == 2 and ledger.height == 2
    assert abs(ledger["cost_usd"].sum() - billed_usd(log, load_routing().models)) < 1e-12
    # The next day, other instruments, same story: nothing new to pay.
    again = compute_partition(
        config, SETTINGS, _two_instruments(btc), items.head(1), DAY, "sentiment"
    )
    assert again.calls == 0 and len(server.stats()["log"]) == 2


def test_window_without_news_makes_no_call(server, config, btc):
    part = compute_partition(config, SETTINGS, btc, news(), DAY, "sentiment")
    assert server.request_count() == 0 and part.calls == 0
    assert set(part.signals["status"]) == {"no_news"}
    rows = part.signals
    # No view, known at the window's end (it ends any older sentiment in the backtest).
    assert rows["value"].null_count() == rows.height
    ends = rows["bar_start"].dt.epoch("us") + 60_000_000
    assert (rows["available_at"].dt.epoch("us") == ends).all()
    assert part.failure is None  # nothing to ask is not a coverage failure


def test_every_choice_is_recorded_and_cadence_keeps_the_answer_in_effect(server, config, btc):
    part = compute_partition(config, SETTINGS, btc, news(), DAY, "pattern")
    rows = part.signals
    assert rows.height == btc.height == 1440
    assert Counter(rows["reason"]) == {"schedule": 96, "between_asks": 1344}
    asked = rows.filter(pl.col("reason") == "schedule")
    assert asked["fresh"].all() and set(asked["status"]) == {"ok"}
    waiting = rows.filter(pl.col("reason") == "between_asks")
    assert set(waiting["status"]) == {"not_asked"} and not waiting["fresh"].any()
    assert waiting["available_at"].null_count() == waiting.height
    # Each window between asks names the window whose answer is in effect.
    lag = (waiting["bar_start"] - waiting["answer_bar_start"]).dt.total_minutes()
    assert lag.min() == 1 and lag.max() == 14
    assert server.request_count() == part.calls == 96
    assert rows.columns == LLM_SIGNALS.column_names


def test_trigger_asks_early(server, config, btc):
    vol = btc["volatility_30"].drop_nulls().quantile(0.9)
    settings = SignalSettings(trigger_volatility=float(vol), trigger_min_gap=5)
    part = compute_partition(config, settings, btc, news(), DAY, "risk")
    reasons = Counter(part.signals["reason"])
    assert reasons["schedule"] == 96 and reasons["trigger"] > 0
    assert part.calls == reasons["schedule"] + reasons["trigger"]


def test_packing_changes_do_not_invalidate_the_cache(server, config, btc):
    packed = dataclasses.replace(SETTINGS, pack_size=8)
    first = compute_partition(config, packed, btc, news(), DAY, "risk")
    assert first.calls == 96 // 8
    log = server.stats()["log"]
    assert len(log) == 12
    # Unpacked, or packed differently: every answer is already owned.
    for size in (1, 3, 5):
        again = compute_partition(config, dataclasses.replace(SETTINGS, pack_size=size), btc,
                                  news(), DAY, "risk")  # fmt: skip
        assert again.calls == 0 and again.estimate.calls == 0
        assert again.estimate.cache_hits == 96
        assert again.signals.select("bar_start", "value").equals(
            first.signals.select("bar_start", "value")
        )
    assert len(server.stats()["log"]) == 12


def test_bad_item_in_a_packed_answer_fails_alone_and_is_asked_again_alone(tmp_path, btc):
    with OfflineServer(faults=Faults(rate_bad_item=1.0, seed=1)) as srv:
        cfg = GatewayConfig(base_url=srv.base_url, cache_path=tmp_path / "cache.sqlite")
        settings = dataclasses.replace(SETTINGS, pack_size=4, cadence_windows=60)
        part = compute_partition(cfg, settings, btc, news(), DAY, "pattern")
        log = srv.stats()["log"]
    # 24 asked windows in 6 packs of 4; each pack had one bad item, asked again alone.
    assert set(part.signals.filter(pl.col("reason") == "schedule")["status"]) == {"ok"}
    assert Counter(e["fault"] for e in log) == {"bad_item": 6, None: 6}
    ledger = ledger_rows(cfg.cache_path, DAY, "pattern")
    assert Counter(zip(ledger["status"], ledger["items"], strict=True)) == {
        ("partial", 4): 6,
        ("ok", 1): 6,
    }
    # The re-asked item is the one that failed: the last of each pack.
    packs = ledger.filter(pl.col("items") == 4)["unit_keys"].to_list()
    alone = ledger.filter(pl.col("items") == 1)["unit_keys"].to_list()
    assert sorted(k[-1] for k in packs) == sorted(k[0] for k in alone)
    assert abs(ledger["cost_usd"].sum() - billed_usd(log, load_routing().models)) < 1e-12


def test_estimate_equals_the_cost_of_the_run_that_follows(tmp_path, btc):
    items = news(
        (at(DAY, 9, 5, 10), "BTC rallies as spot ETF inflows surge to a record", ["BTC"]),
        (at(DAY, 9, 5, 50), "Liquidations cascade as BTC crashes below support", ["BTC"]),
        (at(DAY, 20, 0, 1), "BTC trades sideways ahead of macro data", ["BTC"]),
    )
    for settings in (SETTINGS, dataclasses.replace(SETTINGS, pack_size=6),
                     SignalSettings(design="baseline")):  # fmt: skip
        cache = tmp_path / f"{settings.design}-{settings.pack_size}.sqlite"
        with OfflineServer() as srv:
            cfg = GatewayConfig(base_url=srv.base_url, cache_path=cache)
            est = estimate_range(cfg, settings, [(DAY, btc, items)])
            assert not cache.exists()  # the estimate wrote nothing and called nothing
            assert srv.request_count() == 0
            parts = [compute_partition(cfg, settings, btc, items, DAY, k)
                     for k in ("sentiment", "pattern", "risk")]  # fmt: skip
            billed = billed_usd(srv.stats()["log"], load_routing().models)
        actual = sum(p.cost_usd for p in parts)
        assert est.exact and est.calls == sum(p.calls for p in parts)
        assert est.usd_online == pytest.approx(actual, abs=1e-12)
        assert actual == pytest.approx(billed, abs=1e-12)
        assert est.usd_batch == pytest.approx(est.usd_online * 0.5, rel=1e-9)


def test_window_sentiment_is_an_age_decayed_aggregate():
    half = 300e6
    value, confidence = window_sentiment([(1.0, 0.5, 0)], half)
    assert (value, confidence) == (1.0, 0.5)
    # An older opposite headline weighs less; two agreeing headlines raise the confidence.
    value, _ = window_sentiment([(1.0, 0.6, 0), (-1.0, 0.6, int(half))], half)
    assert value == pytest.approx((0.6 - 0.3) / 0.9)
    _, both = window_sentiment([(0.5, 0.5, 0), (0.5, 0.5, 0)], half)
    assert both == pytest.approx(0.75)
    with pytest.raises(ValueError):
        window_sentiment([], half)


def test_baseline_design_is_one_call_per_window_with_the_original_keys(server, config, btc):
    from tardis_assets.lib.llm import SignalRequest, run_signals

    small = btc.head(30)
    part = compute_partition(config, SignalSettings(design="baseline"), small, news(), DAY, "risk")
    assert part.calls == 30 and set(part.signals["reason"]) == {"every_window"}
    # The original path finds every answer: same prompts, same keys.
    from tardis_assets.lib.signals.windows import windows

    reqs = [SignalRequest("risk", w.exchange, w.symbol, w.start_us, w.window_us, w.features,
                          w.headlines) for w in windows(small, news())]  # fmt: skip
    again = run_signals(config, reqs)
    assert again.cache_hits == 30 and again.http_requests == 0


def test_cache_path_is_shared_state_not_a_secret(tmp_path: Path):
    assert ledger_rows(tmp_path / "missing.sqlite", DAY, "risk").is_empty()
