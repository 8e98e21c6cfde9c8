"""The code location Dagster loads: the registry built from this deployment's settings.

This is the only module that reads the configuration at import (Dagster imports it to find
``defs``); everything else receives a ``Settings`` object.
"""

from __future__ import annotations

from tardis_assets.defs.registry import build_definitions
from tardis_assets.lib.settings import load_settings

defs = build_definitions(load_settings())
