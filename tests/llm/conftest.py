"""Shared fixtures for the LLM gateway tests: a real stand-in server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tardis_assets.lib.llm import OfflineServer


@pytest.fixture
def server() -> Iterator[OfflineServer]:
    with OfflineServer(latency_s=0.0) as srv:
        yield srv
