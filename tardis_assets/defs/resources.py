"""Dagster resources: configuration of paths, instruments and the LLM gateway.

Each resource is configuration plus a factory for a Dagster-free object from ``lib/``; assets ask
the resource for that object and never build paths or clients themselves, so moving the lake
elsewhere is a configuration change. ``resources_from`` fills them from the project settings;
API keys are handed over as Dagster ``EnvVar``s, resolved only when a run starts. The factories
import their ``lib/`` classes when called: a run's own process loads these definitions and only
orchestrates, so it never needs DuckDB, numba or the HTTP client (see ``lib/lazy.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from tardis_assets.defs.support.params_config import params_config
from tardis_assets.lib.llm.providers import PROVIDERS
from tardis_assets.lib.market.tardis.inflate import InflateLimits
from tardis_assets.lib.quality.rules import QualityRules
from tardis_assets.lib.settings import Settings
from tardis_assets.lib.signals.settings import SignalSettings

if TYPE_CHECKING:
    from tardis_assets.lib.llm import GatewayConfig
    from tardis_assets.lib.market.synthetic import SyntheticMarket
    from tardis_assets.lib.warehouse import Warehouse


class WarehouseResource(dg.ConfigurableResource):
    """Where everything a run stores lives: the Parquet lake (raw ticks and every table, as
    immutable partition files) and the catalog file of DuckDB views over it."""

    lake: str = Field(
        default="data/lake",
        description="lake root: a folder or a file:// URI shared by every process that runs",
    )
    catalog: str = Field(
        default="data/warehouse.duckdb",
        description="DuckDB file that mirrors the views (for people and tools; rebuildable)",
    )

    def warehouse(self) -> Warehouse:
        from tardis_assets.lib.warehouse import Warehouse

        return Warehouse.at(self.lake, self.catalog)

    def lake_root(self) -> Path:
        return self.warehouse().lake.root


class MarketResource(dg.ConfigurableResource):
    """Instruments, the inputs folder and the synthetic market used when a day has no file.

    ``synthetic_when_missing=False`` is the real-data configuration: a day without a tardis file
    is then an error instead of a made-up day.
    """

    instruments: list[str] = Field(
        default=["binance-futures:BTCUSDT"], description="exchange:SYMBOL per instrument"
    )
    inputs_dir: str = "data/inputs"
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
    max_inflated_gib: float = Field(
        default=InflateLimits().max_gib,
        description="a .gz input may inflate to at most this many GiB (gzip bombs)",
    )
    max_inflate_ratio: float = Field(
        default=InflateLimits().max_ratio,
        description="... and to at most this many bytes per compressed byte",
    )

    def inflate_limits(self) -> InflateLimits:
        return InflateLimits(max_gib=self.max_inflated_gib, max_ratio=self.max_inflate_ratio)

    def instrument_list(self) -> list[tuple[str, str]]:
        pairs = []
        for item in self.instruments:
            exchange, sep, symbol = item.partition(":")
            if not sep or not exchange or not symbol:
                raise ValueError(f"instrument {item!r} must look like exchange:SYMBOL")
            pairs.append((exchange, symbol))
        return pairs

    def synthetic(self) -> SyntheticMarket:
        from tardis_assets.lib.market.synthetic import SyntheticMarket

        return SyntheticMarket(seed=self.seed, trades_per_day=self.synthetic_trades_per_day)

    def inputs(self) -> Path:
        return Path(self.inputs_dir)


class QualityResource(dg.ConfigurableResource):
    """The data-quality rules: the packaged table plus the project file's [quality] overrides
    (see lib/quality/rules.toml), as JSON so the run config stays plain data."""

    overrides_json: str = "{}"
    source: str = "defaults"

    def rules(self) -> QualityRules:
        return QualityRules.load(json.loads(self.overrides_json), self.source)


SignalsConfig = params_config(
    "SignalsConfig",
    SignalSettings,
    "What the signal layer asks when (fields and defaults: lib/signals/settings.py).",
    exclude=("bar_seconds",),  # the market's bar size
)


class LLMResource(dg.ConfigurableResource):
    """The LLM gateway's configuration; the key arrives as a Dagster EnvVar, never as a literal.

    ``signals`` is what is asked when (design, cadence, triggers, packing, sentiment decay);
    ``batch`` sends the missing requests through the provider's Batch API (half price, for
    backfills of old days), resuming a recorded batch instead of paying twice.
    """

    provider: str = "offline"
    base_url: str | None = None
    api_key: str | None = None
    routing_path: str | None = None
    cache_path: str = "data/llm_cache/cache.sqlite"
    replay_only: bool = False
    allow_in_sample: bool = False
    budget_run_usd: float | None = None
    budget_day_usd: float | None = None
    max_concurrency: int = 64
    signals: SignalsConfig = Field(default_factory=SignalsConfig)  # type: ignore[valid-type]
    batch: bool = False
    min_ok_share: float = Field(
        default=0.95, description="signal coverage below this share of ok answers fails the check"
    )
    offline_latency_s: float = 0.0

    def signal_settings(self, bar_seconds: int) -> SignalSettings:
        return self.signals.params(bar_seconds=bar_seconds)  # type: ignore[attr-defined]

    @property
    def window_minutes(self) -> int:
        return int(self.signals.window_minutes)  # type: ignore[attr-defined]

    @contextmanager
    def gateway_config(self) -> Iterator[GatewayConfig]:
        """Yield a GatewayConfig; for ``offline`` the loopback stand-in server runs meanwhile."""
        from tardis_assets.lib.llm import GatewayConfig, OfflineServer

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


def llm_provider(settings: Settings) -> str:
    """The configured provider, else HolySheep when its key is set, else the offline stand-in."""
    provider = settings.llm.provider
    if not provider:
        key_var = PROVIDERS["holysheep"].key_env
        provider = "holysheep" if settings.key_is_set(key_var) else "offline"
    if provider not in PROVIDERS:
        raise ValueError(f"TARDIS_LLM_PROVIDER={provider!r}; known providers: {sorted(PROVIDERS)}")
    return provider


def llm_resource_from(settings: Settings, provider: str | None = None) -> LLMResource:
    """Only the *name* of the key variable is used here; Dagster's EnvVar resolves the value at
    run time, so it never enters the definitions, the UI or the event log."""
    provider = provider or llm_provider(settings)
    key_var = PROVIDERS[provider].key_env
    api_key = dg.EnvVar(key_var) if settings.key_is_set(key_var) else None
    llm = settings.llm
    return LLMResource(
        provider=provider,
        base_url=llm.base_url,
        api_key=api_key,
        routing_path=llm.routing_path,
        cache_path=str(settings.data.llm_cache),
        allow_in_sample=llm.allow_in_sample,
        budget_run_usd=llm.budget_run_usd,
        budget_day_usd=llm.budget_day_usd,
        max_concurrency=llm.max_concurrency,
        signals=SignalsConfig(**llm.signals),
        batch=llm.batch,
        min_ok_share=llm.min_ok_share,
    )


def resources_from(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """The resources of a deployment, from its settings (tests override single ones)."""
    market = settings.market
    return {
        "warehouse": WarehouseResource(lake=settings.data.lake, catalog=str(settings.data.catalog)),
        "market": MarketResource(
            instruments=list(market.instruments),
            inputs_dir=str(settings.data.inputs),
            synthetic_when_missing=market.synthetic_when_missing,
            download_missing=market.download_missing,
            tardis_api_key=dg.EnvVar("TARDIS_API_KEY") if market.tardis_key_set else None,
            seed=market.seed,
            synthetic_trades_per_day=market.synthetic_trades_per_day,
            bar_seconds=market.bar_seconds,
            max_inflated_gib=market.inflate.max_gib,
            max_inflate_ratio=market.inflate.max_ratio,
        ),
        "llm": llm_resource_from(settings),
        "quality": QualityResource(
            overrides_json=json.dumps(dict(settings.quality)), source=settings.source
        ),
    }
