"""The price grid the book is indexed by, and the lot size orders are rounded to.

tardis files carry prices, not the exchange's tick size. The grid only needs to hold every price
that occurs, so when no tick size is given it is inferred as ``10**-d`` for the fewest decimals
``d`` that write all sampled prices exactly (a 0.5 tick then lives on a 0.1 grid, which costs a
sparser array, not a wrong price). Prices map to integer tick indices; back-conversion divides by
an exact power of ten so a reported fill price is the decimal price, not ``index * 0.1`` noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_DECIMALS = 9


def infer_decimals(values: np.ndarray, max_decimals: int = MAX_DECIMALS) -> int:
    """Fewest decimals that write every finite value of ``values`` exactly (within float noise)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("cannot infer a price grid from no prices")
    for d in range(max_decimals + 1):
        scaled = v * 10.0**d
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.abs(scaled) + 1e-6):
            return d
    return max_decimals


@dataclass(frozen=True)
class PriceGrid:
    """``index = round(price / tick)``; ``inverse`` is ``1 / tick`` when that is an integer."""

    tick: float
    inverse: float

    @classmethod
    def of(cls, tick: float) -> PriceGrid:
        if not math.isfinite(tick) or tick <= 0:
            raise ValueError(f"tick size must be a positive number, got {tick!r}")
        inv = 1.0 / tick
        exact = round(inv)
        if tick < 1 and exact >= 1 and abs(inv - exact) <= 1e-9 * exact:
            return cls(tick=float(tick), inverse=float(exact))
        return cls(tick=float(tick), inverse=0.0)

    def index(self, price: float) -> int:
        return round(price * self.inverse) if self.inverse else round(price / self.tick)

    def price(self, index: int) -> float:
        return index / self.inverse if self.inverse else index * self.tick


def infer_grid(prices: np.ndarray) -> PriceGrid:
    return PriceGrid.of(10.0 ** -infer_decimals(prices))


def infer_lot(amounts: np.ndarray) -> float:
    """Smallest order increment consistent with the sampled amounts (``10**-d``)."""
    a = np.asarray(amounts, dtype=np.float64)
    a = a[np.isfinite(a) & (a > 0)]
    if a.size == 0:
        return 1e-8
    return 10.0 ** -infer_decimals(a)
