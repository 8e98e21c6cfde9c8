"""Providers: OpenAI-compatible endpoints chosen by configuration.

A provider is only a base URL, the env var its key usually lives in, and whether it speaks the
Batch API. The key itself is resolved by the caller (a Dagster EnvVar in the resource) and passed
in GatewayConfig.api_key, so this module never reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass

from tardis_assets.lib.llm.contracts import GatewayConfig


@dataclass(frozen=True)
class Provider:
    name: str
    base_url: str | None
    key_env: str | None
    supports_batch: bool


PROVIDERS: dict[str, Provider] = {
    "holysheep": Provider("holysheep", "https://api.holysheep.ai/v1", "HOLYSHEEP_API_KEY", True),
    "openai": Provider("openai", "https://api.openai.com/v1", "OPENAI_API_KEY", True),
    "deepseek": Provider("deepseek", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", False),
    # vLLM / Ollama / any OpenAI-compatible server: the URL comes from configuration.
    "local": Provider("local", None, "LOCAL_LLM_API_KEY", False),
    "offline": Provider("offline", None, None, True),
}


class ProviderError(ValueError):
    """The provider configuration is unusable."""


@dataclass(frozen=True)
class Endpoint:
    """A provider resolved against a run's configuration."""

    provider: Provider
    base_url: str
    cache_identity: str


def resolve(config: GatewayConfig, name: str | None = None) -> Endpoint:
    """The endpoint for provider `name` (default: the config's provider)."""
    pname = name or config.provider
    if pname not in PROVIDERS:
        raise ProviderError(f"unknown LLM provider {pname!r}; known: {sorted(PROVIDERS)}")
    prov = PROVIDERS[pname]
    explicit = config.base_url if pname == config.provider else None
    url = explicit or prov.base_url
    if not url:
        raise ProviderError(f"LLM provider {pname!r} needs a base_url in the configuration")
    url = url.rstrip("/")
    # The offline port changes every run; its answers do not, so its identity is a constant.
    identity = "offline" if pname == "offline" else url
    return Endpoint(prov, url, identity)


def default_provider(api_key: str | None) -> str:
    """`holysheep` when a key is configured, else the keyless `offline` stand-in."""
    return "holysheep" if api_key else "offline"
