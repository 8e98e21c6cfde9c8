"""Lazy package exports: every public name of every lazy package resolves to what its module
defines (never to a module), and importing a package loads none of its heavy modules."""

import importlib
import pkgutil
import subprocess
import sys
import types

import pytest

from tardis_assets.lib.lazy import lazy_exports

LAZY_PACKAGES = (
    "tardis_assets.lib.backtest",
    "tardis_assets.lib.execution",
    "tardis_assets.lib.llm",
    "tardis_assets.lib.signals",
    "tardis_assets.lib.market.synthetic",
    "tardis_assets.lib.market.tardis",
)


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_public_name_resolves_and_none_is_a_submodule(package):
    pkg = importlib.import_module(package)
    assert len(set(pkg.__all__)) == len(pkg.__all__)
    submodules = {m.name for m in pkgutil.iter_modules(pkg.__path__)}
    # Imported first, a submodule binds its own name in the package: such a name cannot be lazy.
    assert not set(pkg.__all__) & submodules
    for name in submodules:
        importlib.import_module(f"{package}.{name}")
    for name in pkg.__all__:
        value = getattr(pkg, name)
        assert not isinstance(value, types.ModuleType), f"{package}.{name}"


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_importing_a_package_loads_no_numeric_stack(package):
    probe = (
        f"import sys; import {package}; "
        "print(','.join(m for m in ('numba', 'polars', 'duckdb', 'pyarrow', 'httpx') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "", f"import {package} loaded {out.stdout.strip()}"


def test_unknown_names_fail_and_known_ones_are_stored_once(monkeypatch):
    package = "tardis_assets.lib.signals"
    pkg = importlib.import_module(package)
    getattr_ = lazy_exports(package, {"LLM_SIGNALS": "tables"})
    monkeypatch.delitem(pkg.__dict__, "LLM_SIGNALS", raising=False)
    value = getattr_("LLM_SIGNALS")
    assert pkg.__dict__["LLM_SIGNALS"] is value
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        getattr_("nope")
    with pytest.raises(AttributeError):
        pkg.nope  # noqa: B018
    with pytest.raises(ValueError, match="also its submodules' names"):
        lazy_exports(package, {"tables": "tables"})
