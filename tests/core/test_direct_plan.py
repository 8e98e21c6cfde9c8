"""How a direct backfill splits a selection into per-day runs (``operate/direct.py``).

The nodes have the shape ``DagsterGraphQL.asset_nodes`` returns; the end-to-end test runs the
same planning on the real code location's nodes from a live webserver.
"""

from __future__ import annotations

import pytest

from tardis_assets.operate.direct import (
    DAYS_IN_FLIGHT,
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    DirectBackfill,
    PlanError,
    Stage,
    partition_tags,
    plan_stages,
)

KINDS = ["sentiment", "pattern", "risk"]
DAY_X_KIND = [("date", None), ("kind", KINDS)]
REPO = ("tardis_assets", "__repository__")


def node(deps: list[str], key_dims: list | None = None, partitioned: bool = True) -> dict:
    dims = key_dims or []
    per_day = 1
    for _, keys in dims:
        per_day *= len(keys) if keys is not None else 1
    return {
        "partitioned": partitioned,
        "deps": sorted(deps),
        "key_dims": dims,
        "keys_per_day": per_day,
        "repository": REPO,
    }


# The daily graph as the code location defines it (ticks, bars, signals, backtests).
GRAPH = {
    "raw_trades": node([]),
    "raw_quotes": node([]),
    "news": node([]),
    "bars": node(["raw_trades"]),
    "llm_signals": node(["bars", "news"], DAY_X_KIND),
    "backtest_results": node(["bars", "llm_signals"]),
    "execution_results": node(["raw_trades", "raw_quotes", "llm_signals"]),
    "optimization": node(["backtest_results"], partitioned=False),
}
DAILY = [name for name in GRAPH if name != "optimization"]


def test_the_daily_graph_is_three_layers_a_day() -> None:
    assert plan_stages(GRAPH, DAILY) == [
        Stage(("raw_trades", "raw_quotes", "news", "bars"), 0, 1, ()),
        Stage(("llm_signals",), 1, 3, (0,)),
        Stage(("backtest_results", "execution_results"), 2, 1, (0, 1)),
    ]


def test_selection_order_does_not_change_the_layers() -> None:
    assert plan_stages(GRAPH, list(reversed(DAILY))) == [
        Stage(("bars", "news", "raw_quotes", "raw_trades"), 0, 1, ()),
        Stage(("llm_signals",), 1, 3, (0,)),
        Stage(("execution_results", "backtest_results"), 2, 1, (0, 1)),
    ]


def test_dependencies_outside_the_selection_are_taken_as_materialized() -> None:
    # Without the signals, bars and backtests share a partitions definition: one run a day.
    assert plan_stages(GRAPH, ["bars", "backtest_results"]) == [
        Stage(("bars", "backtest_results"), 0, 1, ())
    ]
    assert plan_stages(GRAPH, ["llm_signals", "backtest_results"]) == [
        Stage(("llm_signals",), 0, 3, ()),
        Stage(("backtest_results",), 1, 1, (0,)),
    ]


def test_unpartitioned_asset_is_refused_with_the_alternative() -> None:
    with pytest.raises(PlanError, match=r"optimization is not partitioned by day.*--driver daemon"):
        plan_stages(GRAPH, [*DAILY, "optimization"])


def test_partitions_it_cannot_split_by_day_are_refused() -> None:
    three = {"grid": node([], [("date", None), ("kind", KINDS), ("venue", ["a", "b"])])}
    with pytest.raises(PlanError, match="grid's partitions are not days x one static"):
        plan_stages(three, ["grid"])


def test_cycle_is_named() -> None:
    loop = {"a": node(["b"]), "b": node(["a"], DAY_X_KIND)}
    with pytest.raises(PlanError, match="cycle through a -> b -> a"):
        plan_stages(loop, ["a", "b"])


def test_partition_tags_of_one_day() -> None:
    assert partition_tags(GRAPH["bars"], "2025-03-01") == {PARTITION_TAG: "2025-03-01"}
    # Dagster orders date x kind keys day first, then the kinds as defined: one day's keys
    # are the contiguous range from its first kind to its last.
    assert partition_tags(GRAPH["llm_signals"], "2025-03-01") == {
        RANGE_START_TAG: "2025-03-01|sentiment",
        RANGE_END_TAG: "2025-03-01|risk",
    }
    # Key parts follow the dimension names, whichever the day's is.
    venue_first = node([], [("a_venue", ["x", "y"]), ("date", None)])
    assert partition_tags(venue_first, "2025-03-01") == {
        RANGE_START_TAG: "x|2025-03-01",
        RANGE_END_TAG: "y|2025-03-01",
    }


def _backfill(days: int, in_flight: int = DAYS_IN_FLIGHT) -> DirectBackfill:
    """A direct backfill's bookkeeping without a server: runs are recorded as ``launch`` would."""
    names = [f"2025-03-{d:02d}" for d in range(1, days + 1)]
    stages = plan_stages(GRAPH, DAILY)
    return DirectBackfill(None, GRAPH, stages, names, {}, days_in_flight=in_flight)  # type: ignore[arg-type]


def _record(plan: DirectBackfill, keys: list[tuple[str, int]]) -> None:
    for day, index in keys:
        run_id = f"{day}/{index}"
        plan.runs[(day, index)] = run_id
        plan.status[run_id] = "QUEUED"


def test_first_layers_wait_for_room_and_later_layers_go_first() -> None:
    plan = _backfill(12)
    ready = plan.ready()
    assert ready == [(f"2025-03-{d:02d}", 0) for d in range(1, DAYS_IN_FLIGHT + 1)]
    _record(plan, ready)
    assert plan.ready() == []  # nine days in flight: no room, nothing downstream yet
    plan.status["2025-03-01/0"] = "SUCCESS"
    assert plan.ready() == [("2025-03-01", 1), ("2025-03-10", 0)]
    _record(plan, plan.ready())
    plan.status["2025-03-01/1"] = "SUCCESS"
    plan.status["2025-03-02/0"] = "FAILURE"
    # The failed day stops there; its place in flight goes to the next day.
    assert plan.ready() == [("2025-03-01", 2), ("2025-03-11", 0)]


def test_celery_priority_steps() -> None:
    plan = _backfill(12)
    first, signals, backtests = plan.stages
    # Redis serves step 0 first: a later layer always, then days in the order they started.
    assert plan.celery_step(signals) == plan.celery_step(backtests) == 0
    assert plan.celery_step(first) == 1
    for day in range(1, 12):
        _record(plan, [(f"2025-03-{day:02d}", 0)])
        assert plan.celery_step(first) == min(1 + day, 9)
