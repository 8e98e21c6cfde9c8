import subprocess
import sys
from pathlib import Path

import dagster as dg

from tardis_assets.defs.partitions import daily, daily_by_kind
from tardis_assets.defs.registry import build_definitions
from tardis_assets.lib.settings import DEFAULT_RAW_TYPES, load_settings

# The code location for the built-in defaults (no project file in this folder).
defs = build_definitions(load_settings(env={}, cwd=Path(__file__).parent))
RAW = {f"raw_{t}" for t in DEFAULT_RAW_TYPES}
EXPECTED = {
    **dict.fromkeys(RAW, daily),
    "news": daily,
    "bars": daily,
    "llm_signals": daily_by_kind,
    "backtest_results": daily,
    "execution_results": daily,
    "execution_range": None,
    "latency_study": None,
    "llm_costs": None,
    "backtest_range": None,
    "strategy_optimization": None,
    "llm_strategy_optimization": None,
    "walk_forward": None,
    "risk_report": None,
}


def test_definitions_load_and_validate():
    from tardis_assets.definitions import defs as loaded  # what Dagster loads

    dg.Definitions.validate_loadable(loaded)
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys == set(EXPECTED)
    for name, partitions in EXPECTED.items():
        assert graph.get(dg.AssetKey(name)).partitions_def == partitions, name


def test_lineage_is_the_designed_chain():
    graph = defs.resolve_asset_graph()

    def parents(name):
        return {k.to_user_string() for k in graph.get(dg.AssetKey(name)).parent_keys}

    assert parents("bars") == RAW
    assert parents("llm_signals") == {"bars", "news"}
    assert parents("backtest_results") == {"bars", "llm_signals"}
    assert parents("risk_report") == {"backtest_results"}
    assert parents("llm_strategy_optimization") == {"bars", "llm_signals"}
    assert parents("execution_results") == RAW | {"llm_signals"}
    assert parents("latency_study") == RAW | {"llm_signals"}


def test_no_asset_waits_for_a_single_writer():
    # Every table is a set of partition files replaced by atomic rename: writers of different
    # partitions never share a lock, so no asset is serialized behind a storage pool. The only
    # pool bounds how many runs call the LLM providers at once.
    for key in defs.resolve_asset_graph().get_all_asset_keys():
        pool = defs.resolve_assets_def(key).op.pool
        assert pool == ("llm" if key.to_user_string() == "llm_signals" else None), key


# What a run's own process must not load: it builds the definitions and only orchestrates.
NUMERIC_STACK = ("numba", "polars", "duckdb", "pyarrow", "httpx", "tenacity")


def test_importing_the_definitions_loads_no_numeric_stack():
    probe = (
        "import sys, warnings; warnings.simplefilter('ignore'); "
        "import tardis_assets.definitions; "
        f"print(','.join(m for m in {NUMERIC_STACK!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "", f"importing the definitions loaded {out.stdout.strip()}"
