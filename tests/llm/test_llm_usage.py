"""Cached-prefix pricing, exact: provider usage fields parsed, cached tokens at the cached rate."""

from __future__ import annotations

import dataclasses

from llm_testkit import make_requests

from tardis_assets.lib.llm import GatewayConfig, OfflineServer, run_signals
from tardis_assets.lib.llm.cache import ResponseCache
from tardis_assets.lib.llm.offline_answers import billed_usd
from tardis_assets.lib.llm.routing import load_routing
from tardis_assets.lib.llm.usage import parse_usage, price


def test_openai_and_deepseek_usage_fields():
    openai = parse_usage(
        {
            "prompt_tokens": 2048,
            "completion_tokens": 300,
            "total_tokens": 2348,
            "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 256},
        }
    )
    assert (openai.prompt_tokens, openai.cached_tokens, openai.reasoning_tokens) == (
        2048,
        1920,
        256,
    )
    assert '"cached_tokens":1920' in openai.raw
    deepseek = parse_usage(
        {"prompt_tokens": 900, "completion_tokens": 40, "prompt_cache_hit_tokens": 640,
         "prompt_cache_miss_tokens": 260}
    )  # fmt: skip
    assert deepseek.cached_tokens == 640 and deepseek.reasoning_tokens == 0
    assert parse_usage({"prompt_tokens": 10, "completion_tokens": 2,
                        "prompt_tokens_details": None}).cached_tokens == 0  # fmt: skip
    assert parse_usage({"prompt_tokens": "x"}) is None and parse_usage(None) is None
    gpt = load_routing().models["gpt-4.1"]
    # Reasoning tokens are part of completion_tokens: billed once, as output.
    assert price(gpt, openai) == (128 * 2.00 + 1920 * 0.50 + 300 * 8.00) / 1e6


def test_cached_tokens_are_priced_at_the_cached_rate(tmp_path):
    long_news = tuple(f"Headline {i}: " + "market structure commentary " * 10 for i in range(20))
    base = make_requests(1, kinds=("pattern",))[0]
    first = dataclasses.replace(base, headlines=long_news)
    # Same window and first 19 headlines, another last one: a long shared prefix.
    second = dataclasses.replace(base, headlines=(*long_news[:19], "A different closing story"))
    with OfflineServer() as srv:
        cfg = GatewayConfig(base_url=srv.base_url, cache_path=tmp_path / "cache.sqlite")
        report = run_signals(cfg, [first, second])
        log = srv.stats()["log"]
    prices = load_routing().models
    with ResponseCache(cfg.cache_path) as c:
        rows = c.journal_rows()
    cached = sorted(r.tokens_cached for r in rows)
    assert cached[0] == 0 and cached[1] >= 1024 and cached[1] % 128 == 0
    gpt = prices["gpt-4.1"]
    for row in rows:
        exact = gpt.cost(row.tokens_in, row.tokens_out, cached=row.tokens_cached)
        assert abs(row.cost_usd - exact) < 1e-15
        assert '"cached_tokens":' in row.usage_json
    hit = max(rows, key=lambda r: r.tokens_cached)
    assert hit.cost_usd < gpt.cost(hit.tokens_in, hit.tokens_out)  # cheaper than full price
    assert abs(sum(r.cost_usd for r in rows) - billed_usd(log, prices)) < 1e-15
    assert abs(report.cost_usd - sum(r.cost_usd for r in rows)) < 1e-12
