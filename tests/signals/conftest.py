"""Fixtures of the signal-layer tests: a real stand-in over loopback, a fresh cache per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tardis_assets.lib.llm import GatewayConfig, OfflineServer


@pytest.fixture
def server() -> Iterator[OfflineServer]:
    with OfflineServer() as srv:
        yield srv


@pytest.fixture
def config(server: OfflineServer, tmp_path: Path) -> GatewayConfig:
    return GatewayConfig(base_url=server.base_url, cache_path=tmp_path / "cache.sqlite")
