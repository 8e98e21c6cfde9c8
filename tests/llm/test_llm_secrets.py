"""A canary key must not reach the cache file, ledger, results, logs or exception texts."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from llm_testkit import make_questions, make_requests

from tardis_assets.lib.llm import Faults, GatewayConfig, OfflineServer, ask_questions, run_signals
from tardis_assets.lib.llm.cache import ResponseCache
from tardis_assets.lib.llm.providers import ProviderConfigError, resolve

CANARY = "sk-canary-7f3a9c1e5b2d4f6a8c0e"


def test_canary_key_never_stored_logged_or_raised(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    faults = Faults.mixed(0.3, retry_after_s=0.01, hang_s=1.0, seed=9, echo_auth_in_errors=True)
    reqs = make_requests(30)
    with OfflineServer(faults=faults) as srv:
        cfg = GatewayConfig(
            provider="offline",
            base_url=srv.base_url,
            api_key=CANARY,
            cache_path=tmp_path / "cache.sqlite",
            backoff_initial_s=0.002,
            request_timeout_s=0.2,
            max_attempts=1,
        )
        report = run_signals(cfg, reqs)
        # The relay really echoed the key into some error bodies.
        assert any(e["fault"] == "500" for e in srv.stats()["log"])
    assert any(r.error and "HTTP 500" in r.error for r in report.results + report.ledger)
    texts = [repr(cfg), str(cfg)]
    texts += [repr(r) for r in report.results]
    texts += [repr(row) for row in report.ledger]
    texts += [rec.getMessage() for rec in caplog.records]
    for text in texts:
        assert CANARY not in text
    assert any("***" in (row.error or "") for row in report.ledger)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path


def test_config_errors_do_not_echo_the_key():
    with pytest.raises(ProviderConfigError) as err:
        resolve(GatewayConfig(provider="nope", api_key=CANARY))
    assert CANARY not in str(err.value)
    with pytest.raises(ProviderConfigError) as err:
        resolve(GatewayConfig(provider="local", api_key=CANARY))
    assert CANARY not in str(err.value)
    assert CANARY not in repr(dataclasses.replace(GatewayConfig(), api_key=CANARY))


def test_canary_key_never_in_journal_answers_or_stats(tmp_path, caplog):
    """The packed path and its stored fields: journal rows (errors, raw usage), answers, the
    per-model totals and the last provider error of the report."""
    caplog.set_level(logging.DEBUG)
    faults = Faults.mixed(0.4, retry_after_s=0.01, hang_s=1.0, seed=4, echo_auth_in_errors=True)
    with OfflineServer(faults=faults) as srv:
        cfg = GatewayConfig(
            base_url=srv.base_url,
            api_key=CANARY,
            cache_path=tmp_path / "cache.sqlite",
            backoff_initial_s=0.002,
            request_timeout_s=0.2,
            max_attempts=1,
        )
        report = ask_questions(cfg, make_questions(40), pack_size=4)
    with ResponseCache(cfg.cache_path) as cache:
        rows = cache.journal_rows()
    assert any(r.error and "HTTP 500" in r.error for r in rows)
    texts = [repr(r) for r in rows] + [repr(a) for a in report.answers]
    texts += [repr(report.by_model), str(report.last_error)]
    texts += [rec.getMessage() for rec in caplog.records]
    assert all(CANARY not in t for t in texts)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path
