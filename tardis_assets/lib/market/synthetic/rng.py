"""Counter-based random numbers for the numba kernels: draw = hash(stream key, event, slot).

The book simulation must give the same rows however the day is cut into chunks. A sequential
generator cannot promise that (a chunk boundary would have to land exactly where the generator's
state was saved), so every draw is a pure function of a stream key and its coordinates: the
message's index in the day and a slot number within the message. Each quantity (message times,
trade sides, sizes, latencies, ...) has its own key, derived from ``rng_for`` labels, so adding a
draw to one quantity never shifts another's.

The mixer is SplitMix64's finalizer (Steele, Lea & Flood 2014), applied twice; its outputs pass
the usual statistical batteries when fed a counter, which is how it is used here.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from tardis_assets.lib.market.seeding import rng_for

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SLOT = np.uint64(0xD6E8FEB86659FD93)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0


def stream_keys(count: int, seed: int, *labels: object) -> np.ndarray:
    """``count`` independent 64-bit stream keys for one (seed, labels), e.g. one instrument-day."""
    return rng_for(seed, "streams", *labels).integers(
        0, np.iinfo(np.uint64).max, size=count, dtype=np.uint64, endpoint=True
    )


@njit(cache=True, nogil=True)
def mix64(x: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    """SplitMix64's output function: a bijection of 64-bit words that scrambles every bit."""
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


@njit(cache=True, nogil=True)
def uniform(key: np.uint64, index: np.int64, slot: np.int64) -> float:  # pragma: no cover
    """Uniform in (0, 1), never 0 or 1 (safe under log)."""
    counter = np.uint64(index) * _GOLDEN + np.uint64(slot) * _SLOT
    bits = mix64(key ^ mix64(counter))
    return (np.float64(bits >> _S11) + 0.5) * _INV53


@njit(cache=True, nogil=True)
def normal(key: np.uint64, index: np.int64, slot: np.int64) -> float:  # pragma: no cover
    """Standard normal (Box-Muller on slots 2*slot and 2*slot + 1)."""
    u1 = uniform(key, index, 2 * slot)
    u2 = uniform(key, index, 2 * slot + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True, nogil=True)
def lognormal(key, index, slot, median: float, sigma: float) -> float:  # pragma: no cover
    """Lognormal with the given median and log-scale sigma (uses normal's two slots)."""
    return median * math.exp(sigma * normal(key, index, slot))


@njit(cache=True, nogil=True)
def geometric(key, index, slot, mean: float) -> np.int64:  # pragma: no cover - compiled
    """1, 2, 3, ... with the given mean (>= 1); exactly 1 when mean is 1."""
    if mean <= 1.0:
        return np.int64(1)
    u = uniform(key, index, slot)
    return np.int64(1) + np.int64(math.log(u) / math.log(1.0 - 1.0 / mean))
