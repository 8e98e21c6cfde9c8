"""`tardis-assets backfill --driver direct`: each layer of a day is launched when the runs it
needs have succeeded, by this command instead of Dagster's backfill daemon.

Why: an asset backfill is ordered by the daemon, whose loop runs every 30 s and cannot be
configured. Each layer of a day (the ticks and bars, then the date x kind signals, then the
backtests) waits for the next loop after the layer before it ended, and the backfill is marked
done a loop or two after its last run: a day of the whole graph is about 25 s of runs and 90 to
180 s of backfill. Here the layers come from the code location's asset graph, every day's first
layer is launched at once, and a day's next layer the moment the runs it needs succeed. The runs
go through the same run queue (run slots, pools, and on a cluster the Celery workers).

Order: days are finished one after the other, not all at once at the end. A day's later layers
come first, in the run queue (``dagster/priority``) and in the Celery queue; among first layers
the earlier day's steps come first (``dagster-celery/run_priority``: Redis serves its lowest
priority step first, and a day takes the step after the days still in flight). At most
``DAYS_IN_FLIGHT`` days have a first layer launched and not yet ended, one priority step each.
Then the day's bars, signals and backtests are done while later days' ticks are read, and what
is left at the end is the last day's chain, not every day's signals and backtests.

What it gives up: the backfill is not a Dagster object. The UI shows its runs (filter by the
``tardis/backfill`` tag), not a backfill page, and the order lives in this process: stopped, the
runs already launched finish and no later layer is launched; the same command again materializes
the range again (re-runs are byte-identical). For long backfills that must outlive a shell, the
daemon driver stays the default.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tardis_assets.lib.cluster.celery_settings import PRIORITY_STEPS, STEP_PRIORITY_DEFAULT
from tardis_assets.operate.graphql import (
    FINISHED_RUN,
    PARTITION_TAG,
    BackfillInfo,
    DagsterGraphQL,
    RunInfo,
)

DIRECT_TAG = "tardis/backfill"  # on every run of a direct backfill: its id
TITLE_TAG = "tardis/backfill_title"
PRIORITY_TAG = "dagster/priority"  # the run queue launches higher values first
CELERY_PRIORITY_TAG = "dagster-celery/run_priority"  # added to each step's Celery priority
DAYS_IN_FLIGHT = len(PRIORITY_STEPS) - 1  # one Celery priority step per day; 0: later layers
PARENT_TAG = "dagster/parent_run_id"  # on a retry of a failed run
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


class PlanError(ValueError):
    """The selection cannot be split into per-day runs (the message says which asset)."""


@dataclass(frozen=True)
class Stage:
    """Assets that share one partitions definition and run together, one run per day."""

    assets: tuple[str, ...]
    level: int  # how many changes of partitions definition lie upstream
    keys_per_day: int
    needs: tuple[int, ...]  # indices of the stages whose run of the same day must succeed


def _shape(node: Mapping[str, Any]) -> tuple:
    return tuple(name for name, _ in node["key_dims"]), node["keys_per_day"]


def plan_stages(nodes: Mapping[str, Mapping[str, Any]], assets: Sequence[str]) -> list[Stage]:
    """The selected assets in stages, upstream first.

    Dagster runs assets of one partitions definition together; a dependency on an asset of
    another definition (days -> days x kinds -> days) needs a run of its own after it. An
    asset's level is the number of such changes on its longest upstream path within the
    selection; the assets of one level and definition form one stage. Dependencies outside
    the selection are taken as materialized, as in a Dagster backfill.
    """
    selected = list(dict.fromkeys(assets))
    for asset in selected:
        node = nodes[asset]
        if not node["partitioned"]:
            raise PlanError(
                f"{asset} is not partitioned by day: materialize it on its own, or backfill it "
                "with --driver daemon"
            )
        statics = [keys for _, keys in node["key_dims"] if keys is not None]
        if node["key_dims"] and (len(node["key_dims"]) != 2 or len(statics) != 1):
            raise PlanError(
                f"{asset}'s partitions are not days x one static dimension; backfill it with "
                "--driver daemon"
            )
    levels: dict[str, int] = {}

    def level(asset: str, path: tuple[str, ...] = ()) -> int:
        if asset in path:
            raise PlanError(f"dependency cycle through {' -> '.join((*path, asset))}")
        if asset not in levels:
            deps = [d for d in nodes[asset]["deps"] if d in selected]
            levels[asset] = max(
                (
                    level(d, (*path, asset)) + (_shape(nodes[d]) != _shape(nodes[asset]))
                    for d in deps
                ),
                default=0,
            )
        return levels[asset]

    groups: dict[tuple, list[str]] = {}
    for asset in selected:
        groups.setdefault((level(asset), _shape(nodes[asset])), []).append(asset)
    keys = sorted(groups, key=lambda k: (k[0], repr(k[1])))
    stage_of = {a: i for i, k in enumerate(keys) for a in groups[k]}
    stages = []
    for i, key in enumerate(keys):
        needs = {stage_of[d] for a in groups[key] for d in nodes[a]["deps"] if d in stage_of}
        needs.discard(i)
        stages.append(Stage(tuple(groups[key]), key[0], key[1][1], tuple(sorted(needs))))
    return stages


def partition_tags(node: Mapping[str, Any], day: str) -> dict[str, str]:
    """Dagster's tags for one day of ``node``: the day, or the range of its keys that day.

    A multi-partition key joins its dimensions' keys by dimension name; Dagster orders the keys
    day first, so one day's keys are the contiguous range from its first static key to its last.
    """
    if not node["key_dims"]:
        return {PARTITION_TAG: day}

    def key(static: str) -> str:
        return "|".join(day if keys is None else static for _, keys in node["key_dims"])

    statics = next(keys for _, keys in node["key_dims"] if keys is not None)
    return {RANGE_START_TAG: key(statics[0]), RANGE_END_TAG: key(statics[-1])}


@dataclass
class DirectBackfill:
    """One direct backfill: which run each (day, stage) got and how it ended."""

    client: DagsterGraphQL
    nodes: Mapping[str, Mapping[str, Any]]
    stages: list[Stage]
    days: list[str]
    tags: dict[str, str]
    days_in_flight: int = DAYS_IN_FLIGHT
    backfill_id: str = field(default_factory=lambda: secrets.token_hex(4))
    runs: dict[tuple[str, int], str] = field(default_factory=dict)  # (day, stage) -> run id
    status: dict[str, str] = field(default_factory=dict)  # run id -> last seen status

    @property
    def run_tag(self) -> tuple[str, str]:
        return DIRECT_TAG, self.backfill_id

    def first_in_flight(self) -> int:
        """Days whose first-layer run is launched and has not ended."""
        return sum(
            1
            for (_, i), run_id in self.runs.items()
            if not self.stages[i].needs and self.status[run_id] not in FINISHED_RUN
        )

    def celery_step(self, stage: Stage) -> int:
        """The Redis priority step of the stage's steps: later layers 0 (served first), a first
        layer the step after the days already in flight."""
        if stage.needs:
            return PRIORITY_STEPS[0]
        return PRIORITY_STEPS[min(1 + self.first_in_flight(), len(PRIORITY_STEPS) - 1)]

    def launch(self, day: str, index: int) -> None:
        stage = self.stages[index]
        node = self.nodes[stage.assets[0]]
        tags = {
            **self.tags,
            DIRECT_TAG: self.backfill_id,
            PRIORITY_TAG: str(stage.level),
            CELERY_PRIORITY_TAG: str(self.celery_step(stage) - STEP_PRIORITY_DEFAULT),
            **partition_tags(node, day),
        }
        run_id = self.client.launch_run(node["repository"], stage.assets, tags)
        self.runs[(day, index)] = run_id
        self.status[run_id] = "QUEUED"

    def ready(self) -> list[tuple[str, int]]:
        """(day, stage) not launched yet whose needed runs of that day all succeeded: later
        layers first, then first layers while fewer than ``days_in_flight`` days run one."""
        later = [
            (day, i)
            for day in self.days
            for i, stage in enumerate(self.stages)
            if stage.needs
            and (day, i) not in self.runs
            and all(self.status.get(self.runs.get((day, n), "")) == "SUCCESS" for n in stage.needs)
        ]
        room = max(self.days_in_flight - self.first_in_flight(), 0)
        first = [
            (day, i)
            for day in self.days
            for i, stage in enumerate(self.stages)
            if not stage.needs and (day, i) not in self.runs
        ]
        return later + first[:room]

    def active(self) -> int:
        return sum(1 for s in self.status.values() if s not in FINISHED_RUN)

    def done_partitions(self) -> int:
        return sum(
            len(self.stages[i].assets) * self.stages[i].keys_per_day
            for (_, i), run_id in self.runs.items()
            if self.status[run_id] == "SUCCESS"
        )

    def total_partitions(self) -> int:
        return len(self.days) * sum(len(s.assets) * s.keys_per_day for s in self.stages)

    def refresh(self) -> list[RunInfo]:
        """Every run's status; a retry of a run (the instance's run retries) takes its place."""
        runs = self.client.runs(tag=self.run_tag, limit=2 * len(self.runs) + 10)
        slot = {run_id: key for key, run_id in self.runs.items()}
        for run in reversed(runs):  # oldest first: a retry of a retry replaces its parent
            self.status[run.run_id] = run.status
            parent = run.tags.get(PARENT_TAG)
            if parent in slot and run.run_id not in slot:
                slot[run.run_id] = slot.pop(parent)
                self.runs[slot[run.run_id]] = run.run_id
        return runs


def run_direct(
    client: DagsterGraphQL,
    days: Sequence[str],
    assets: Sequence[str],
    *,
    title: str,
    tags: Mapping[str, str],
    timeout_s: float,
    poll_s: float = 1.0,
    out: Callable[[str], None] = print,
) -> tuple[BackfillInfo, tuple[str, str]]:
    """Plan, launch and follow a direct backfill; returns its end state and its runs' tag.

    A run that fails or is canceled ends its day there: the layers that need it are not
    launched, and the summary shows them missing. Other days go on.
    """
    nodes = client.asset_nodes()
    plan = DirectBackfill(
        client,
        nodes,
        plan_stages(nodes, assets),
        list(days),
        {**tags, TITLE_TAG: title},
    )
    started = time.monotonic()
    out(
        f"direct backfill {plan.backfill_id}: {len(days)} day(s) {days[0]}..{days[-1]} in "
        f"{len(plan.stages)} layer(s): " + " -> ".join("+".join(s.assets) for s in plan.stages)
    )
    last: tuple[int, int] | None = None
    while True:
        for day, index in plan.ready():
            plan.launch(day, index)
        state = (plan.done_partitions(), plan.active())
        if state != last:
            last = state
            out(
                f"  {time.monotonic() - started:5.0f} s  running: {state[0]}/"
                f"{plan.total_partitions()} asset partitions done, {state[1]} run(s) active"
            )
        if not plan.active():
            break
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(
                f"direct backfill {plan.backfill_id} not done after {timeout_s:.0f} s: "
                f"{plan.active()} run(s) still active (tag {DIRECT_TAG}={plan.backfill_id})"
            )
        time.sleep(poll_s)
        plan.refresh()
    runs = plan.refresh()
    ok = all(plan.status[r] == "SUCCESS" for r in plan.runs.values())
    complete = len(plan.runs) == len(plan.days) * len(plan.stages)
    info = BackfillInfo(
        backfill_id=plan.backfill_id,
        status="COMPLETED_SUCCESS" if ok and complete else "COMPLETED_FAILED",
        partition_names=tuple(days),
        runs=tuple(runs),
        counts={},
        error=None,
    )
    return info, plan.run_tag
