"""CPU sets of a one-host cluster's workers (``lib/cluster/cpus.py``), without Dagster."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tardis_assets.lib.cluster.cpus import (
    THREAD_VARIABLES,
    cpu_sets,
    host_cpus,
    pin_to,
    thread_env,
)


def test_workers_get_disjoint_cpus_while_the_host_has_enough():
    assert cpu_sets(2, 1, [0, 1]) == [(0,), (1,)]
    assert cpu_sets(2, 2, [0, 1, 2, 3]) == [(0, 1), (2, 3)]
    assert cpu_sets(1, 1, [5, 7]) == [(5,)]


def test_more_workers_than_cpus_share_them_evenly():
    assert cpu_sets(3, 1, [0, 1]) == [(0,), (1,), (0,)]
    # Asking for more CPUs than exist gives each worker the whole host, not an error.
    assert cpu_sets(2, 4, [0, 1]) == [(0, 1), (0, 1)]


@pytest.mark.parametrize(("workers", "per", "cpus"), [(0, 1, [0]), (1, 0, [0]), (1, 1, [])])
def test_impossible_requests_say_so(workers, per, cpus):
    with pytest.raises(ValueError, match=r"at least 1|no CPU"):
        cpu_sets(workers, per, cpus)


def test_thread_pools_are_sized_to_the_cpu_set():
    env = thread_env((0, 1, 2))
    assert set(env) == set(THREAD_VARIABLES)
    assert set(env.values()) == {"3"}


def test_a_pinned_child_and_its_own_children_run_only_on_their_cpus():
    """What a worker's prefork pool inherits: the CPU set applies to the whole process tree."""
    cpu = host_cpus()[-1]
    code = (
        "import os, subprocess, sys;"
        "print(sorted(os.sched_getaffinity(0)));"
        "print(subprocess.run([sys.executable, '-c', "
        "'import os; print(sorted(os.sched_getaffinity(0)))'], capture_output=True, "
        "text=True).stdout.strip())"
    )

    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=lambda: pin_to((cpu,)),
    ).stdout.split("\n")
    assert out[0] == out[1] == str([cpu])
    assert sorted(os.sched_getaffinity(0)) == host_cpus()  # the parent is untouched
