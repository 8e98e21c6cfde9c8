"""Decimal units: tick and lot sizes as ``m / 10**d``, integers in, exact decimals out.

The book counts in integer ticks and lots; a price is ``tick * m / 10**d``. Computing it as one
correctly rounded division of two exact integers gives the double nearest to the decimal value,
the same double a CSV reader gets from its text, so frames, files and the lake agree bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_DECIMALS = 9


@dataclass(frozen=True)
class Decimals:
    multiple: int  # m
    decimals: int  # d

    @classmethod
    def of(cls, size: float) -> Decimals:
        """``size`` as m / 10**d with the fewest decimals; a ValueError beyond 9 decimals."""
        if size <= 0:
            raise ValueError(f"a tick or lot size must be positive, got {size}")
        for d in range(MAX_DECIMALS + 1):
            scaled = size * 10**d
            if abs(scaled - round(scaled)) < 1e-6:
                return cls(round(scaled), d)
        raise ValueError(f"{size} is not a decimal with at most {MAX_DECIMALS} digits")

    @property
    def unit(self) -> float:
        return float(10**self.decimals)

    def values(self, counts: np.ndarray) -> np.ndarray:
        """Float values of integer counts of this unit (e.g. ticks -> prices)."""
        return (counts * self.multiple) / self.unit


def scaled_values(counts: np.ndarray, decimals: int) -> np.ndarray:
    """Floats of integers in units of 10**-decimals (funding rates in 1e-8, prices in 1e-2)."""
    return counts / float(10**decimals)


@dataclass(frozen=True)
class Units:
    """The decimal units of one instrument's prices (tick size) and amounts (lot size)."""

    price: Decimals
    amount: Decimals

    @classmethod
    def of(cls, tick_size: float, lot_size: float) -> Units:
        return cls(Decimals.of(tick_size), Decimals.of(lot_size))

    def as_array(self) -> np.ndarray:
        """(tick multiple, tick decimals, lot multiple, lot decimals) for the CSV kernels."""
        p, a = self.price, self.amount
        return np.array([p.multiple, p.decimals, a.multiple, a.decimals], dtype=np.int64)
