"""One supervised run of llm_signals for one (day, kind), as its own process (for the pool tests).

usage: pool_run.py DATA_DIR DAY KIND LATENCY_S MAX_WAIT_S
DAGSTER_HOME names the instance. Exit 0 on success, the CLI's codes otherwise.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import dagster as dg

from tardis_assets.defs.pipeline import run_layers
from tardis_assets.defs.registry import build_registry
from tardis_assets.defs.resources import (
    LLMResource,
    MarketResource,
    QualityResource,
    SignalsConfig,
    WarehouseResource,
)
from tardis_assets.lib.errors import TardisAssetsError
from tardis_assets.lib.settings import load_settings


def resources(data: Path, latency_s: float) -> dict[str, dg.ConfigurableResource]:
    return {
        "warehouse": WarehouseResource(lake=str(data / "lake"), catalog=str(data / "w.duckdb")),
        "market": MarketResource(inputs_dir=str(data / "inputs"), synthetic_trades_per_day=20_000),
        "llm": LLMResource(
            cache_path=str(data / "cache.sqlite"),
            offline_latency_s=latency_s,
            max_concurrency=4,
            signals=SignalsConfig(window_minutes=5, cadence_windows=1),  # 288 asks: a long holder
        ),
        "quality": QualityResource(),
    }


def main(argv: list[str]) -> int:
    warnings.filterwarnings("ignore")
    data, day, kind, latency, max_wait = Path(argv[0]), argv[1], argv[2], argv[3], argv[4]
    registry = build_registry(load_settings(env={}, cwd=data))
    key = dg.MultiPartitionKey({"date": day, "kind": kind})
    with dg.DagsterInstance.get() as instance:
        try:
            run_layers(
                registry,
                ["llm_signals"],
                key,
                resources(data, float(latency)),
                instance,
                max_pool_wait_s=float(max_wait),
            )
        except TardisAssetsError as exc:
            print(f"tardis-assets: {exc.sentence()}", file=sys.stderr)
            return 1
    print("run succeeded", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
