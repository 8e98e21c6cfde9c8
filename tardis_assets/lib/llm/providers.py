"""Providers: OpenAI-compatible endpoints chosen by configuration.

A provider is only a base URL, the env var its key usually lives in, and whether it speaks the
Batch API. The key itself is resolved by the caller (a Dagster EnvVar in the resource) and passed
in GatewayConfig.api_key, so this module never reads the environment.
"""

from __future__ import annotations

from dataclasses import dataclass

from tardis_assets.lib.errors import ConfigError
from tardis_assets.lib.llm.contracts import GatewayConfig


@dataclass(frozen=True)
class Provider:
    name: str
    base_url: str | None
    key_env: str | None
    supports_batch: bool
    # Answers a repeated Idempotency-Key with the stored completion, unbilled (the stand-in
    # does). Then a call resumed after a crash is paid, and journaled, exactly once.
    replays_idempotent: bool = False


PROVIDERS: dict[str, Provider] = {
    "holysheep": Provider("holysheep", "https://api.holysheep.ai/v1", "HOLYSHEEP_API_KEY", True),
    "openai": Provider("openai", "https://api.openai.com/v1", "OPENAI_API_KEY", True),
    "deepseek": Provider("deepseek", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY", False),
    # vLLM / Ollama / any OpenAI-compatible server: the URL comes from configuration.
    "local": Provider("local", None, "LOCAL_LLM_API_KEY", False),
    "offline": Provider("offline", None, None, True, replays_idempotent=True),
}


class ProviderConfigError(ConfigError):
    """The provider configuration is unusable (unknown provider, missing URL)."""


@dataclass(frozen=True)
class Endpoint:
    """A provider resolved against a run's configuration."""

    provider: Provider
    base_url: str
    cache_identity: str


# GatewayConfig.provider = "routing": each model goes to the provider the routing table names,
# with keys from GatewayConfig.api_keys and URLs from GatewayConfig.base_urls.
ROUTING = "routing"


def resolve(config: GatewayConfig, name: str | None = None, require_url: bool = True) -> Endpoint:
    """The endpoint for provider `name` (default: the config's provider).

    `require_url=False` (replay-only runs, which send nothing) accepts the offline provider
    without a running stand-in.
    """
    pname = name or config.provider
    if pname == ROUTING:
        raise ProviderConfigError("provider 'routing' is resolved per model: pass a provider name")
    if pname not in PROVIDERS:
        raise ProviderConfigError(f"unknown LLM provider {pname!r}; known: {sorted(PROVIDERS)}")
    prov = PROVIDERS[pname]
    explicit = (config.base_urls or {}).get(pname) or (
        config.base_url if pname == config.provider else None
    )
    url = explicit or prov.base_url
    if not url and not (pname == "offline" and not require_url):
        raise ProviderConfigError(f"LLM provider {pname!r} needs a base_url in the configuration")
    url = (url or "").rstrip("/")
    # The offline port changes every run; its answers do not, so its identity is a constant.
    identity = "offline" if pname == "offline" else url
    return Endpoint(prov, url, identity)


def api_key_for(config: GatewayConfig, name: str) -> str | None:
    """The key for provider `name`: never one provider's key sent to another provider."""
    if config.api_keys and name in config.api_keys:
        return config.api_keys[name]
    return config.api_key if name == config.provider else None


def secrets(config: GatewayConfig) -> list[str]:
    """Every key in the configuration (to redact from any text that may be stored or logged)."""
    keys = [config.api_key, *(config.api_keys or {}).values()]
    return [k for k in keys if k]


def default_provider(api_key: str | None) -> str:
    """`holysheep` when a key is configured, else the keyless `offline` stand-in."""
    return "holysheep" if api_key else "offline"
