"""The one failure sentence per kind of failure, from a real run's stored stats (issue 9/10)."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from signals_testkit import DAY, OLD_DAY, day_bars, news

from tardis_assets.lib.errors import BudgetError, LookAheadError, ProviderError
from tardis_assets.lib.llm import Faults, GatewayConfig, OfflineServer
from tardis_assets.lib.signals import SignalSettings, compute_partition, coverage_failure

FAST = {"backoff_initial_s": 0.001, "backoff_max_s": 0.005, "max_attempts": 2}


@pytest.fixture(scope="module")
def bars() -> pl.DataFrame:
    return day_bars(DAY)


def test_lookahead_refusal_sentence(config):
    old = day_bars(OLD_DAY)
    part = compute_partition(config, SignalSettings(), old, news(), OLD_DAY, "pattern")
    err = part.failure
    assert isinstance(err, LookAheadError)
    assert err.sentence() == (
        "llm_signals 2024-01-10|pattern: 96 of 96 requests refused as in-sample: gpt-4.1 knows "
        "data up to 2024-06-01, gpt-4.1-mini knows data up to 2024-06-01. Use days after the "
        "cutoff, route to a model with a later cutoff, or set allow_in_sample = true under [llm] "
        "in tardis_assets.toml (or on the llm resource)."
    )
    # The sentence comes from the stored stats alone.
    assert coverage_failure(part.stats, 0.95).sentence() == err.sentence()
    assert part.calls == 0


def test_budget_exhausted_sentence(config, bars):
    cfg = dataclasses.replace(config, budget_run_usd=0.01)
    part = compute_partition(cfg, SignalSettings(), bars, news(), DAY, "risk")
    err = part.failure
    assert isinstance(err, BudgetError)
    text = err.sentence()
    assert text.startswith("llm_signals 2026-11-20|risk: ")
    assert " of 96 requests not sent: after $0.0" in text
    assert "the next call's worst-case cost no longer fit under the budget (run cap $0.01)" in text
    assert "Raise budget_run_usd or budget_day_usd under [llm]" in text
    assert part.cost_usd <= 0.01
    assert err.facts["budget_exhausted"] == int(part.stats["budget_exhausted"].sum()) > 0


def test_provider_down_sentence_names_breakers_and_last_error(tmp_path, bars):
    down = Faults(down_models=("claude-3-5-sonnet-20241022", "gpt-4.1"))
    with OfflineServer(faults=down) as srv:
        cfg = GatewayConfig(base_url=srv.base_url, cache_path=tmp_path / "c.sqlite",
                            breaker_failure_threshold=3, **FAST)  # fmt: skip
        part = compute_partition(cfg, SignalSettings(), bars, news(), DAY, "risk")
    err = part.failure
    assert isinstance(err, ProviderError)
    text = err.sentence()
    assert text.startswith("llm_signals 2026-11-20|risk: provider down: ok share 0.00 (0 of 96)")
    assert "claude-3-5-sonnet-20241022 open (opened" in text and "gpt-4.1 open" in text
    assert "last provider error: " in text and "HTTP 503" in text
    assert "tardis-assets llm ping" in text
    stats = part.stats.sort("chain_position")
    assert stats["breaker_state"].to_list() == ["open", "open"]
    assert int(stats["calls"].sum()) == part.calls > 0  # sent, failed, and in the ledger


def test_parse_error_sentence(tmp_path, bars):
    with OfflineServer(faults=Faults(rate_bad_value=1.0)) as srv:
        cfg = GatewayConfig(base_url=srv.base_url, cache_path=tmp_path / "c.sqlite", **FAST)
        settings = SignalSettings(cadence_windows=240)
        part = compute_partition(cfg, settings, bars, news(), DAY, "pattern")
    err = part.failure
    assert isinstance(err, ProviderError)
    assert "6 of 6 answers broke the pattern schema on every model of the route" in err.sentence()
    assert "is not one of" in err.sentence()


def test_enough_coverage_is_no_failure(config, bars):
    part = compute_partition(config, SignalSettings(), bars, news(), DAY, "risk")
    assert part.failure is None and part.sentence() is None
