"""Shared fixtures: the real tardis excerpts (copied, never written in place)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

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
