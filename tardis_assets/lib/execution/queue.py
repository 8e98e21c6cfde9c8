"""Queue-position models for resting limit orders (market-by-price data).

A resting order joins behind the displayed size at its price: ``front`` (size ahead of it) starts
at that size. Trades at the order's price always advance it by the traded size; once ``front``
goes below zero the excess trades against the order (a partial fill when it is smaller than the
order). What a *decrease of the displayed size without a trade* (a cancellation) does is the
model:

* ``QM_RISK_AVERSE``: cancellations never advance the order (they are assumed to come from
  behind it); ``front`` only shrinks when the level itself becomes smaller than it. The
  conservative model (hftbacktest's RiskAdverseQueueModel).
* ``QM_POWER`` / ``QM_LOG``: a cancellation of size ``c`` comes from ahead of the order with
  probability ``1 - p`` and from behind with ``p``, where ``p = f(back) / (f(back) + f(front))``
  and ``f(x) = x**n`` or ``log(1 + x)``; the expected share ahead is removed. This is the
  probabilistic estimate of Rigtorp, "Estimating order queue position" (2013,
  https://rigtorp.se/2013/06/08/estimating-order-queue-position.html), in the form hftbacktest
  documents for its ProbQueueModel with PowerProbQueueFunc / LogProbQueueFunc. Size decreases
  already explained by trades seen at the level since the last depth update are not counted
  again (``cum_trades``).
"""

from __future__ import annotations

import math

from numba import njit

QM_RISK_AVERSE = 0
QM_POWER = 1
QM_LOG = 2

QUEUE_MODEL_CODES = {"risk_averse": QM_RISK_AVERSE, "power": QM_POWER, "log": QM_LOG}


@njit(cache=True, nogil=True)
def behind_probability(model: int, n: float, front: float, back: float) -> float:
    """Probability that a cancellation at the level comes from behind the order."""
    front = max(front, 0.0)
    back = max(back, 0.0)
    if model == QM_POWER:
        fb = back**n
        ff = front**n
    else:
        fb = math.log1p(back)
        ff = math.log1p(front)
    den = fb + ff
    if den <= 0.0 or not math.isfinite(den):
        return 1.0
    return fb / den


@njit(cache=True, nogil=True)
def on_trade(front: float, cum_trades: float, qty: float) -> tuple[float, float]:
    """A trade of ``qty`` at the order's price: everything ahead trades first."""
    return front - qty, cum_trades + qty


@njit(cache=True, nogil=True)
def on_depth(
    model: int, n: float, front: float, cum_trades: float, prev: float, new: float
) -> tuple[float, float]:
    """The displayed size at the order's price changed from ``prev`` to ``new``."""
    if model == QM_RISK_AVERSE:
        return max(min(front, new), 0.0), 0.0
    change = prev - new - cum_trades
    if change <= 0.0:
        return max(min(front, new), 0.0), 0.0
    back = prev - front
    p = behind_probability(model, n, front, back)
    est = front - (1.0 - p) * change + min(back - p * change, 0.0)
    # a cancellation can bring the order to the front of the queue but never fill it
    return max(min(est, new), 0.0), 0.0


@njit(cache=True, nogil=True)
def executable(front: float) -> float:
    """Size of the order the trades have reached (0 while others are still ahead)."""
    return -front if front < 0.0 else 0.0
