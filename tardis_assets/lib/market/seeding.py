"""Stable seeds: the same (seed, labels) gives the same random stream on every machine and run.

Python's ``hash`` is salted per process, so seeds are derived from sha256 of the labels instead;
that is what makes a re-run of a synthetic partition byte-identical.
"""

from __future__ import annotations

import hashlib

import numpy as np


def rng_for(seed: int, *labels: object) -> np.random.Generator:
    digest = hashlib.sha256("|".join([str(seed), *map(str, labels)]).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))
