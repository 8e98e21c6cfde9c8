"""Shared helpers for the tardis tests: real fixture files copied into a temp dir."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest

# ../shared beside the repository, as in the dev tree and in CI's fresh clone
FIXTURES = Path(
    os.environ.get("TARDIS_FIXTURES_DIR")
    or Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "tardis"
)


@pytest.fixture
def tardis_dir(tmp_path: Path) -> Path:
    """Every fixture CSV copied to tmp_path/inputs, plus a .csv.gz twin of each."""
    if not FIXTURES.is_dir():
        pytest.fail(f"tardis fixtures not found at {FIXTURES}")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for src in FIXTURES.glob("*.csv"):
        shutil.copy(src, inputs / src.name)
        with src.open("rb") as fh, gzip.open(inputs / (src.name + ".gz"), "wb") as out:
            shutil.copyfileobj(fh, out)
    return inputs
