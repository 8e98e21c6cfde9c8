"""Give each worker of a one-host cluster CPUs of its own, as if it ran on its own machine.

Why: the libraries a step uses (polars, DuckDB, Arrow, numba) size their thread pools to the
host. On one host, one worker's step then already spreads over every core, and a second worker
only competes with it: a benchmark of 1 vs 2 workers would measure the host's core count, not
how the assets scale out. A worker pinned to its own CPUs, with thread pools sized to them, is
what a worker on a machine of that size sees; the ratio then carries over to a real cluster,
where each worker has a machine of its own. The control plane (webserver, daemon, run
coordinators, PostgreSQL, Redis) is not pinned: it shares the host, as it would not on a
cluster, which makes any measured speed-up conservative.

On a real cluster nothing here is needed (one worker per machine uses all of it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

# Thread-pool sizes the step libraries read at start (numba, polars, OpenMP-based Arrow and
# BLAS); DuckDB connections are sized by their own settings, and time-share the pinned CPUs.
THREAD_VARIABLES = (
    "POLARS_MAX_THREADS",
    "NUMBA_NUM_THREADS",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
)


def host_cpus() -> list[int]:
    """The CPUs this process may run on (its affinity, not the host's count)."""
    return sorted(os.sched_getaffinity(0))


def cpu_sets(workers: int, per_worker: int, available: Sequence[int]) -> list[tuple[int, ...]]:
    """``per_worker`` CPUs for each of ``workers``, disjoint while the host has enough.

    Worker i gets the next ``per_worker`` CPUs of ``available`` in turn; past the end it wraps
    around, so more workers than CPUs share them evenly instead of failing.
    """
    if workers < 1 or per_worker < 1:
        raise ValueError("workers and CPUs per worker must be at least 1")
    if not available:
        raise ValueError("no CPU available to pin workers to")
    cpus = list(available)
    per_worker = min(per_worker, len(cpus))
    return [
        tuple(sorted({cpus[(i * per_worker + j) % len(cpus)] for j in range(per_worker)}))
        for i in range(workers)
    ]


def thread_env(cpus: Sequence[int]) -> dict[str, str]:
    """Environment that sizes the step libraries' thread pools to a worker's CPUs."""
    return {name: str(len(cpus)) for name in THREAD_VARIABLES}


def pin_to(cpus: Sequence[int]) -> None:
    """Restrict the calling process (and every process it starts) to ``cpus``."""
    os.sched_setaffinity(0, set(cpus))
