"""One small day's pipeline up to the LLM signals, as its own process (for the crash tests).

usage: day_run.py DAY
The project file (TARDIS_CONFIG) and DAGSTER_HOME name the project. The same layers in the same
order as ``tardis-assets demo`` up to llm_signals, without the backtests and range studies (the
full command is what bench/crash_soak.py kills). Exit 0 on success, 1 with one sentence otherwise.
"""

from __future__ import annotations

import sys
import warnings

import dagster as dg

from tardis_assets.defs.pipeline import run_layers
from tardis_assets.defs.registry import build_registry
from tardis_assets.defs.resources import resources_from
from tardis_assets.lib.errors import TardisAssetsError
from tardis_assets.lib.llm import KINDS
from tardis_assets.lib.settings import load_settings


def main(argv: list[str]) -> int:
    warnings.filterwarnings("ignore")
    day = argv[0]
    settings = load_settings()
    registry, resources = build_registry(settings), resources_from(settings)
    with dg.DagsterInstance.get() as instance:
        try:
            layers = [*(f"raw_{t}" for t in registry.raw_types), "news", "bars"]
            run_layers(registry, layers, day, resources, instance)
            for kind in KINDS:
                key = dg.MultiPartitionKey({"date": day, "kind": kind})
                run_layers(registry, ["llm_signals"], key, resources, instance)
        except TardisAssetsError as exc:
            print(f"tardis-assets: {exc.sentence()}", file=sys.stderr)
            return 1
    print("day done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
