"""Shared fixtures: the real tardis excerpts (copied, never written in place)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tardis_assets.defs.registry import Registry, build_registry
from tardis_assets.lib.settings import load_settings

# ../shared beside the repository (dev tree and CI); TARDIS_FIXTURES_DIR overrides it.
SHARED_FIXTURES = Path(
    os.environ.get("TARDIS_FIXTURES_DIR")
    or Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "tardis"
)


@pytest.fixture
def tardis_fixtures(tmp_path: Path) -> Path:
    """A private copy of ../shared/fixtures/tardis for one test."""
    if not SHARED_FIXTURES.is_dir():
        pytest.fail(f"tardis fixtures not found at {SHARED_FIXTURES}")
    dest = tmp_path / "fixtures"
    shutil.copytree(SHARED_FIXTURES, dest)
    return dest


@pytest.fixture(autouse=True, scope="session")
def _default_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test sees the built-in defaults: an empty project file, whatever the repo holds."""
    empty = tmp_path_factory.mktemp("config") / "tardis_assets.toml"
    empty.write_text("# defaults only\n")
    saved = os.environ.get("TARDIS_CONFIG")
    os.environ["TARDIS_CONFIG"] = str(empty)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TARDIS_CONFIG", None)
        else:
            os.environ["TARDIS_CONFIG"] = saved


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    """The code location's registry for the built-in default settings, with trades and quotes
    only (the depth and ticker types make every day several million rows; tests of those types
    build their own)."""
    return build_registry(load_settings(env={"TARDIS_RAW_TYPES": "trades,quotes"}, cwd=tmp_path))
