"""Providers by configuration, including per-model providers from the routing table."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest
from llm_testkit import make_requests

from tardis_assets.lib.llm import GatewayConfig, OfflineServer, run_signals
from tardis_assets.lib.llm.ping import ping
from tardis_assets.lib.llm.providers import (
    PROVIDERS,
    ProviderConfigError,
    api_key_for,
    default_provider,
    resolve,
)


def _sha(key: str) -> str:
    return hashlib.sha256(f"Bearer {key}".encode()).hexdigest()[:16]


def test_builtin_providers_and_defaults():
    assert resolve(GatewayConfig(provider="holysheep")).base_url == "https://api.holysheep.ai/v1"
    assert PROVIDERS["holysheep"].key_env == "HOLYSHEEP_API_KEY"
    assert {"holysheep", "openai", "deepseek", "local", "offline"} <= set(PROVIDERS)
    assert default_provider(None) == "offline" and default_provider("sk-x") == "holysheep"
    local = resolve(GatewayConfig(provider="local", base_url="http://gpu-box:8000/v1/"))
    assert local.base_url == "http://gpu-box:8000/v1" and local.cache_identity == local.base_url
    off = resolve(GatewayConfig(provider="offline", base_url="http://127.0.0.1:5/v1"))
    assert off.cache_identity == "offline"
    with pytest.raises(ProviderConfigError, match="needs a base_url"):
        resolve(GatewayConfig(provider="local"))


def test_keys_never_cross_providers():
    cfg = GatewayConfig(provider="openai", api_key="sk-open")
    assert api_key_for(cfg, "openai") == "sk-open"
    assert api_key_for(cfg, "deepseek") is None


def test_routing_mode_sends_each_model_to_its_provider_with_its_key(tmp_path):
    routing = tmp_path / "routing.toml"
    model = (
        "price_in=1.0\nprice_out=2.0\nbatch_discount=0.5\ncutoff=2024-01-01\n"
        "json_schema=false\nmax_concurrency=8\nrps=1000\ntpm=100000000\n"
    )
    routing.write_text(
        "[routes.sentiment]\nchain=['ds']\n[routes.pattern]\nchain=['oa']\n"
        "[routes.risk]\nchain=['oa']\n"
        f"[models.ds]\nprovider='deepseek'\n{model}[models.oa]\nprovider='openai'\n{model}"
    )
    with OfflineServer() as deepseek, OfflineServer() as openai:
        cfg = GatewayConfig(
            provider="routing",
            routing_path=routing,
            base_urls={"deepseek": deepseek.base_url, "openai": openai.base_url},
            api_keys={"deepseek": "sk-ds-1", "openai": "sk-oa-2"},
            cache_path=tmp_path / "cache.sqlite",
        )
        report = run_signals(cfg, make_requests(5))
        ds_log, oa_log = deepseek.stats()["log"], openai.stats()["log"]
        pinged = ping(cfg, model="oa")
    assert all(r.status == "ok" for r in report.results)
    assert Counter(e["model"] for e in ds_log) == {"ds": 5}
    assert Counter(e["model"] for e in oa_log) == {"oa": 10}
    assert {e["auth_sha"] for e in ds_log} == {_sha("sk-ds-1")}
    assert {e["auth_sha"] for e in oa_log} == {_sha("sk-oa-2")}
    by_kind = {row.kind: row.provider for row in report.ledger}
    assert by_kind == {"sentiment": "deepseek", "pattern": "openai", "risk": "openai"}
    assert pinged.ok and pinged.provider == "openai"
