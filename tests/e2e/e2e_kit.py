"""What the end-to-end tests share: a ``dagster dev`` on one code location file, in a folder of
its own, stopped at the end with a check that none of its processes outlived it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tardis_assets.operate.devserver import DevServer
from tardis_assets.operate.proctree import alive

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def dev_server(
    root: Path,
    location: Path,
    location_name: str,
    dagster_yaml: Path,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[DevServer]:
    """``dagster dev`` under ``root`` serving ``location`` (a Python file) as ``location_name``."""
    workspace = root / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        "  - python_file:\n"
        f"      relative_path: {location}\n"
        f"      working_directory: {REPO}\n"
        f"      location_name: {location_name}\n"
    )
    dev = DevServer(
        dagster_home=root / "dagster_home",
        data_dir=root / "data",
        workspace=workspace,
        dagster_yaml=dagster_yaml,
        cwd=root,
        extra_env=dict(extra_env or {}),
    )
    dev.start()
    try:
        yield dev
    finally:
        started = list(dev.known_pids)
        dev.stop()
        left = [pid for pid in started if alive(pid)]
        assert not left, f"dagster dev processes still running after stop: {left}"
