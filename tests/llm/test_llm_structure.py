"""The package's seams (issue 12): lazy stand-in import, no private cross-imports, small modules,
every exception rooted in the project hierarchy."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import tardis_assets.lib.llm
import tardis_assets.lib.signals
from tardis_assets.lib.errors import TardisAssetsError

ROOT = Path(tardis_assets.lib.llm.__file__).parents[1]
PACKAGES = (ROOT / "llm", ROOT / "signals")


def test_importing_the_gateway_does_not_import_the_web_server():
    code = (
        "import sys, tardis_assets.lib.llm, tardis_assets.lib.signals\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('uvicorn', 'starlette')))"
    )
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
    assert "uvicorn" not in out.stderr and "starlette" not in out.stderr


def _modules():
    for pkg in PACKAGES:
        yield from sorted(pkg.glob("*.py"))


def test_no_private_names_imported_across_modules():
    offenders = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tardis_assets"):
                offenders += [
                    f"{path.name}: {a.name}" for a in node.names if a.name.startswith("_")
                ]
    assert offenders == []


def test_modules_hold_one_concept_each():
    sizes = {p.name: len(p.read_text().splitlines()) for p in _modules()}
    assert max(sizes.values()) <= 360, sizes


def test_every_exception_is_a_project_error():
    for pkg in (tardis_assets.lib.llm, tardis_assets.lib.signals):
        for info in pkgutil.iter_modules(pkg.__path__):
            if info.name in ("offline_app", "offline_batch"):
                continue  # the stand-in's web app defines no exceptions
            module = importlib.import_module(f"{pkg.__name__}.{info.name}")
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                    assert issubclass(obj, TardisAssetsError), obj
