"""Which waiting step a free Celery worker takes first: the one deepest in the graph.

Why: a backfill of many days queues every day's raw ingest at once. Taken in arrival order
(Celery's default), every raw step runs before the first day's bars, and the layers after it
run one after another at the end, with workers idle while each waits for its upstream. Taken
deepest first, a day flows through to its backtest as soon as its ticks are in, the later
days' ingest fills the gaps, and only the last day's short chain is left at the end: the first
results come early and the workers have work until the end.

Each asset (and each check, one layer below its asset) carries a layer number: 0 for the raw
ticks, up to ``DEEPEST`` for the research on top. The executor passes the step's tag to the
broker. Redis, the broker here, serves lower numbers first and has four buckets (0, 3, 6, 9:
kombu's ``priority_steps``), so the layers map onto those, deepest to 0. Executors other than
Celery ignore the tag.
"""

from __future__ import annotations

from enum import IntEnum

# dagster-celery's step priority tag (a public tag name; the package is an optional extra).
CELERY_PRIORITY_TAG = "dagster-celery/priority"
# The Redis transport's priority buckets, served in this order.
REDIS_BUCKETS = (0, 3, 6, 9)


class Layer(IntEnum):
    """How deep a step sits: what it waits for upstream."""

    TICKS = 0  # raw tick files, news
    FEATURES = 1  # bars
    SIGNALS = 2  # LLM signals
    RESULTS = 3  # backtests, tick execution, research on top of them


DEEPEST = max(Layer)


def redis_priority(depth: int) -> int:
    """The Redis priority for a step ``depth`` layers deep: deeper is served sooner."""
    steps_from_deepest = max(0, min(DEEPEST, DEEPEST - depth))
    return REDIS_BUCKETS[steps_from_deepest]


def layer_tags(layer: Layer, *, check: bool = False) -> dict[str, str]:
    """Op tags of an asset of ``layer``; a check counts one layer deeper than its asset (it
    waits for the asset, and the run of the asset ends only when its checks have)."""
    return {CELERY_PRIORITY_TAG: str(redis_priority(layer + int(check)))}
