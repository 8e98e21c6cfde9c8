"""Dagster test fixtures: a temp instance (temp DAGSTER_HOME), temp warehouse/lake, and the
offline LLM stand-in served over loopback by a real HTTP server the test owns (so it can count
the calls that reach it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from tardis_assets.defs.resources import (
    LLMResource,
    MarketResource,
    QualityResource,
    WarehouseResource,
)
from tardis_assets.lib.llm import OfflineServer


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst


@pytest.fixture
def offline_server() -> Iterator[OfflineServer]:
    with OfflineServer() as server:
        yield server


@pytest.fixture
def resources(tmp_path: Path, offline_server: OfflineServer) -> dict[str, dg.ConfigurableResource]:
    data = tmp_path / "data"
    return {
        "warehouse": WarehouseResource(
            lake=str(data / "lake"), catalog=str(data / "warehouse.duckdb")
        ),
        "market": MarketResource(inputs_dir=str(data / "inputs"), synthetic_trades_per_day=20_000),
        "llm": LLMResource(
            provider="offline",
            base_url=offline_server.base_url,
            cache_path=str(data / "llm_cache" / "cache.sqlite"),
        ),
        "quality": QualityResource(),
    }
