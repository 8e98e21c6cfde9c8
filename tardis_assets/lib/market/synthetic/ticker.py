"""Perpetual-swap ticker: mark, index and last price, open interest and funding, in numba.

Rows come on a fixed exchange-time grid (``ticker_interval_us``), each reflecting every message
strictly before its timestamp. The model follows the usual perpetual design (Binance/Bybit style):

- ``mark_price`` is the book's mid at that moment; ``index_price`` is the spot index, the mark
  deflated by the premium: an Ornstein-Uhlenbeck process (5-minute memory) around a slow target
  that wanders over hours and leans with the last half hour's move (longs pay up in rallies).
- ``funding_rate`` is the rate that will be settled at ``funding_timestamp`` (the next of 00:00,
  08:00, 16:00 UTC): premium averaged over the funding period so far, plus the interest rate
  clamped to +/-0.05% of it, capped at ``funding_cap``. It converges as the period runs; the last
  row before a funding time carries the rate settled there.
- ``predicted_funding_rate`` is the same formula on the current premium alone: what the next
  period would pay if the premium stayed where it is.
- ``open_interest`` moves with the traded volume (each trade opens or closes contracts, the odds
  leaning back towards the day's typical level) times a slow factor for positioning that the
  day's own trades do not show (a few percent over hours).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from tardis_assets.lib.market.synthetic.book import ASK, BID, price_of
from tardis_assets.lib.market.synthetic.rng import normal, uniform

# derivative_ticker buffer rows (int64, decimal scales in the names): exchange time, arrival,
# next funding time, funding rate and predicted rate (1e-8), open interest (1e-3), last price
# (absolute tick), index and mark price (1e-2)
TI_T, TI_LOCAL, TI_FUNDING_TS, TI_RATE_E8, TI_PREDICTED_E8 = 0, 1, 2, 3, 4
TI_OPEN_INTEREST_E3, TI_LAST_TICK, TI_INDEX_E2, TI_MARK_E2 = 5, 6, 7, 8
TI_FIELDS = 9

FUNDING_PERIOD_US = 8 * 3600 * 1_000_000  # divides the day: funding at 00, 08 and 16 UTC
INTEREST_RATE = 0.0001  # per funding period, as on Binance / Bybit
INTEREST_BAND = 0.0005


@njit(cache=True, nogil=True)
def next_funding_us(t: np.int64) -> np.int64:  # pragma: no cover - compiled
    """The first funding time strictly after ``t`` (µs since the epoch, UTC)."""
    return (t // FUNDING_PERIOD_US + 1) * FUNDING_PERIOD_US


@njit(cache=True, nogil=True)
def funding_rate_e8(premium: float, cap: float) -> np.int64:  # pragma: no cover - compiled
    """The funding rate for an average premium, in units of 1e-8."""
    band = min(max(INTEREST_RATE - premium, -INTEREST_BAND), INTEREST_BAND)
    rate = min(max(premium + band, -cap), cap)
    return _scaled(rate, 1e8)


@njit(cache=True, nogil=True)
def _scaled(x: float, scale: float) -> np.int64:  # pragma: no cover - compiled
    return np.int64(math.floor(x * scale + 0.5))


@njit(cache=True, nogil=True)
def trade_moves_open_interest(st, p, key, seq, lots) -> None:  # pragma: no cover - compiled
    """A trade opens (+) or closes (-) its size, leaning back to the typical level."""
    gap = (st.open_interest - p.oi_target) / (0.05 * p.oi_target)
    p_open = 0.5 - 0.4 * math.tanh(gap)
    size = lots * p.lot_size
    if uniform(key, seq, 0) < p_open:
        st.open_interest += size
    else:
        st.open_interest = max(st.open_interest - size, 0.0)


@njit(cache=True, nogil=True)
def advance_ticker(st, p, premium_target, key, k, g) -> None:  # pragma: no cover - compiled
    """Step premium and positioning to grid point ``k`` (time ``g``); add to the period average."""
    decay = math.exp(-p.ticker_interval_us / p.premium_tau_us)
    shock = p.premium_sd * math.sqrt(1.0 - decay * decay) * normal(key, k, 0)
    st.premium = st.premium * decay + premium_target * (1.0 - decay) + shock
    decay = math.exp(-p.ticker_interval_us / p.oi_tau_us)
    shock = p.oi_sd * math.sqrt(1.0 - decay * decay) * normal(key, k, 1)
    st.oi_factor = st.oi_factor * decay + shock
    period = g // FUNDING_PERIOD_US
    if period != st.funding_period:
        st.funding_period = period
        st.premium_sum = 0.0
        st.premium_n = 0
    st.premium_sum += st.premium
    st.premium_n += 1


@njit(cache=True, nogil=True)
def write_ticker(st, p, g, ti, row) -> None:  # pragma: no cover - compiled
    """The derivative_ticker row at time ``g`` from the current state (both sides quoted)."""
    mark = 0.5 * (price_of(p, st.best[BID] + st.base) + price_of(p, st.best[ASK] + st.base))
    ti[TI_T, row] = g
    ti[TI_LOCAL, row] = st.ticker_local
    ti[TI_FUNDING_TS, row] = next_funding_us(g)
    ti[TI_RATE_E8, row] = funding_rate_e8(st.premium_sum / st.premium_n, p.funding_cap)
    ti[TI_PREDICTED_E8, row] = funding_rate_e8(st.premium, p.funding_cap)
    ti[TI_OPEN_INTEREST_E3, row] = _scaled(st.open_interest * math.exp(st.oi_factor), 1e3)
    # before the day's first trade, the last price is the best bid
    last = st.last_trade_tick if st.last_trade_tick >= 0 else st.best[BID] + st.base
    ti[TI_LAST_TICK, row] = last
    ti[TI_INDEX_E2, row] = _scaled(mark / (1.0 + st.premium), 1e2)
    ti[TI_MARK_E2, row] = _scaled(mark, 1e2)
