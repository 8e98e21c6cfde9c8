"""Shared fixtures: the real tardis excerpts (copied, never written in place)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "tardis"


@pytest.fixture
def tardis_fixtures(tmp_path: Path) -> Path:
    """A private copy of ../shared/fixtures/tardis for one test."""
    if not SHARED_FIXTURES.is_dir():
        pytest.fail(f"tardis fixtures not found at {SHARED_FIXTURES}")
    dest = tmp_path / "fixtures"
    shutil.copytree(SHARED_FIXTURES, dest)
    return dest
