"""Package exports loaded on first use (PEP 562), so importing a package costs nothing.

Every process that loads the code location imports the definitions, and a run's own process
(spawned for each run) needs nothing of the numeric stack: it only orchestrates steps. With the
packages' names resolved lazily, importing ``tardis_assets.definitions`` loads no numba, polars,
DuckDB, Arrow or HTTP client; each name imports its own module the first time it is read.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: ``exports`` maps each public name to the
    submodule (relative to ``package``) that defines it. A resolved name is stored in the
    package, so it is looked up once. A name may not be a submodule's: importing the submodule
    would rebind it in the package to the module."""
    clashes = sorted(set(exports) & set(exports.values()))
    if clashes:
        raise ValueError(f"{package}: lazy names {clashes} are also its submodules' names")

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
