"""Dagster resources: configuration of paths, instruments and the LLM gateway.

Each resource is configuration plus a factory for a Dagster-free object from ``lib/``; assets ask
the resource for that object and never build paths or clients themselves, so moving the lake or
the warehouse elsewhere (DESIGN.md section 7) is a configuration change.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
from pydantic import Field

from tardis_assets.lib.llm import GatewayConfig, OfflineServer
from tardis_assets.lib.llm.providers import PROVIDERS
from tardis_assets.lib.market.synthetic import SyntheticMarket
from tardis_assets.lib.warehouse import Warehouse


def data_dir() -> Path:
    return Path(os.environ.get("TARDIS_DATA_DIR", "data"))


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file (DESIGN.md section 3)."""

    path: str = Field(default_factory=lambda: str(data_dir() / "warehouse.duckdb"))

    def warehouse(self) -> Warehouse:
        return Warehouse(Path(self.path))


class Instrument(dg.Config):
    exchange: str
    symbol: str


class MarketResource(dg.ConfigurableResource):
    """Instruments, input/lake folders and the synthetic market used when a day has no file.

    ``synthetic_when_missing=False`` is the real-data configuration: a day without a tardis file
    is then an error instead of a made-up day.
    """

    instruments: list[str] = Field(
        default=["binance-futures:BTCUSDT"], description="exchange:SYMBOL per instrument"
    )
    inputs_dir: str = Field(default_factory=lambda: str(data_dir() / "inputs"))
    lake_dir: str = Field(default_factory=lambda: str(data_dir() / "lake"))
    synthetic_when_missing: bool = True
    download_missing: bool = Field(
        default=False,
        description="download a missing day from tardis.dev first (needs the [tardis] extra; "
        "without an API key only the free first day of each month)",
    )
    tardis_api_key: str | None = None
    tardis_endpoint: str | None = Field(
        default=None, description="datasets API base URL (default: tardis.dev's)"
    )
    seed: int = 7
    synthetic_trades_per_day: int = 200_000
    bar_seconds: int = 60

    def instrument_list(self) -> list[tuple[str, str]]:
        pairs = []
        for item in self.instruments:
            exchange, sep, symbol = item.partition(":")
            if not sep or not exchange or not symbol:
                raise ValueError(f"instrument {item!r} must look like exchange:SYMBOL")
            pairs.append((exchange, symbol))
        return pairs

    def synthetic(self) -> SyntheticMarket:
        return SyntheticMarket(seed=self.seed, trades_per_day=self.synthetic_trades_per_day)

    def inputs(self) -> Path:
        return Path(self.inputs_dir)

    def lake(self) -> Path:
        return Path(self.lake_dir)


def default_market_resource() -> MarketResource:
    """Downloads only when asked (``TARDIS_DOWNLOAD=on``); the key, if any, as an EnvVar."""
    download = os.environ.get("TARDIS_DOWNLOAD", "off").lower() in {"1", "on", "true", "yes"}
    key = dg.EnvVar("TARDIS_API_KEY") if os.environ.get("TARDIS_API_KEY") else None
    return MarketResource(download_missing=download, tardis_api_key=key)


class LLMResource(dg.ConfigurableResource):
    """The LLM gateway's configuration; the key arrives as a Dagster EnvVar, never as a literal."""

    provider: str = "offline"
    base_url: str | None = None
    api_key: str | None = None
    routing_path: str | None = None
    cache_path: str = Field(default_factory=lambda: str(data_dir() / "llm_cache" / "cache.sqlite"))
    replay_only: bool = False
    allow_in_sample: bool = False
    budget_run_usd: float | None = None
    budget_day_usd: float | None = None
    max_concurrency: int = 64
    window_minutes: int = 1
    min_ok_share: float = Field(
        default=0.95, description="signal coverage below this share of ok rows fails the check"
    )
    offline_latency_s: float = 0.0

    @contextmanager
    def gateway_config(self) -> Iterator[GatewayConfig]:
        """Yield a GatewayConfig; for ``offline`` the loopback stand-in server runs meanwhile."""
        common = dict(
            provider=self.provider,
            api_key=self.api_key,
            routing_path=Path(self.routing_path) if self.routing_path else None,
            cache_path=Path(self.cache_path),
            replay_only=self.replay_only,
            allow_in_sample=self.allow_in_sample,
            budget_run_usd=self.budget_run_usd,
            budget_day_usd=self.budget_day_usd,
            max_concurrency=self.max_concurrency,
        )
        if self.provider == "offline" and self.base_url is None:
            with OfflineServer(latency_s=self.offline_latency_s) as server:
                yield GatewayConfig(base_url=server.base_url, **common)
        else:
            yield GatewayConfig(base_url=self.base_url, **common)


def default_llm_resource(provider: str | None = None) -> LLMResource:
    """Provider from the environment: an explicit choice, else HolySheep when its key is set.

    Only the *name* of the key variable is read here; the value is resolved by Dagster's EnvVar at
    run time, so it never enters the definitions, the UI or the event log.
    """
    provider = provider or os.environ.get("TARDIS_LLM_PROVIDER")
    if not provider:
        key_var = PROVIDERS["holysheep"].key_env
        provider = "holysheep" if key_var and os.environ.get(key_var) else "offline"
    if provider not in PROVIDERS:
        raise ValueError(f"TARDIS_LLM_PROVIDER={provider!r}; known providers: {sorted(PROVIDERS)}")
    key_var = PROVIDERS[provider].key_env
    api_key = dg.EnvVar(key_var) if key_var and os.environ.get(key_var) else None
    return LLMResource(
        provider=provider,
        base_url=os.environ.get("TARDIS_LLM_BASE_URL") or None,
        api_key=api_key,
    )


def day_of(partition_key: str) -> date:
    return date.fromisoformat(partition_key)
