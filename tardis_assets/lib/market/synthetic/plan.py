"""What the book kernel is given for one instrument-day: parameters, per-minute tables, state.

Everything random that is drawn once per day (message counts per minute, spreads, the premium
level, the first trade id, the stream keys) is drawn here with ``rng_for``, each from its own
labelled stream; the per-message draws happen in the kernel from the stream keys. The kernel
state is a numpy record (``STATE_DTYPE``) plus the book arrays: everything a chunk boundary must
carry over, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from tardis_assets.lib.days import US_PER_SECOND, day_start_us
from tardis_assets.lib.market.seeding import rng_for
from tardis_assets.lib.market.synthetic.book import L2_FIELDS, PENDING_L2, WINDOW_TICKS
from tardis_assets.lib.market.synthetic.path import FAST_SETTLED_TAUS, FairPath
from tardis_assets.lib.market.synthetic.rng import stream_keys
from tardis_assets.lib.market.synthetic.simulate import (
    MF_BUY_PROB,
    MF_PREMIUM,
    MF_SPREAD,
    MI_FIRST,
    MI_MAKERS,
    MI_TRADES,
    N_STREAMS,
    Q_FIELDS,
    SN_LEVELS,
    SNAPSHOT_DEPTH,
    TR_FIELDS,
    max_l2_rows_per_message,
)
from tardis_assets.lib.market.synthetic.units import Units
from tardis_assets.lib.market.synthetic.world import (
    MINUTES_PER_DAY,
    US_PER_DAY,
    activity_profile,
)

PARAMS_DTYPE = np.dtype(
    [
        ("tick", np.float64),
        ("tick_m", np.int64),  # tick size = tick_m / tick_unit (units.Decimals)
        ("tick_unit", np.float64),
        ("lot_size", np.float64),
        ("day_start", np.int64),
        ("last_minute_span_us", np.int64),
        ("total_msgs", np.int64),
        ("latency_median_us", np.float64),
        ("latency_sigma", np.float64),
        ("latency_min_us", np.float64),
        ("latency_max_us", np.float64),
        ("trade_median_lots", np.float64),
        ("trade_sigma", np.float64),
        ("level_median_lots", np.float64),
        ("level_sigma", np.float64),
        ("depth_growth", np.float64),
        ("level_gap", np.float64),
        ("depth_min", np.int64),
        ("depth_max", np.int64),
        ("depth_init", np.int64),
        ("l2_rows_per_message", np.int64),
        ("margin", np.int64),
        ("refill_prob", np.float64),
        ("maker_depth_ticks", np.float64),
        ("maker_remove_prob", np.float64),
        ("snapshot_interval_us", np.int64),
        ("snapshot_depth", np.int64),
        ("ticker_interval_us", np.float64),
        ("ticker_interval_i", np.int64),
        ("ticker_count", np.int64),
        ("oi_target", np.float64),
        ("oi_sd", np.float64),
        ("oi_tau_us", np.float64),
        ("premium_sd", np.float64),
        ("premium_tau_us", np.float64),
        ("funding_cap", np.float64),
        ("first_trade_id", np.int64),
        ("fast_tau_us", np.float64),
        ("fast_settle_us", np.int64),
        ("n_minutes", np.int64),
        ("n_fast", np.int64),  # directional headlines of the day
        ("fair_jump_level", np.int64),  # offsets of the FairPath parts in the packed array
        ("fair_jump", np.int64),
        ("fair_jump_at", np.int64),
        ("fair_fast_t", np.int64),
        ("fair_fast_push", np.int64),
        ("fair_fast_cum", np.int64),
    ]
)

STATE_DTYPE = np.dtype(
    [
        ("msg", np.int64),  # next message index of the day (0 = the opening snapshot)
        ("minute", np.int64),
        ("scratch_minute", np.int64),  # minute whose message times the scratch holds
        ("prev_t", np.int64),
        ("keys", np.uint64, (N_STREAMS,)),  # one per random stream (rng.stream_keys)
        # the book: lots per side (book.BID, book.ASK) and tick - base, best/far/count per side
        ("levels", np.int64, (2, WINDOW_TICKS)),
        ("base", np.int64),
        ("best", np.int64, (2,)),
        ("far", np.int64, (2,)),
        ("count", np.int64, (2,)),
        # the message being processed: its rows share time and arrival, staged here
        ("t", np.int64),
        ("local", np.int64),  # book feed arrival (L2, quotes, snapshots)
        ("slot", np.int64),  # draw counter within the message
        ("snapshot", np.bool_),
        ("emit_l2", np.bool_),
        ("emit_snapshots", np.bool_),
        ("l2_pending", np.int64, (L2_FIELDS, PENDING_L2)),
        ("l2_pending_n", np.int64),
        ("quote_pending", np.int64, (Q_FIELDS,)),
        ("quote_pending_n", np.int64),
        ("trade_pending", np.int64, (TR_FIELDS,)),
        ("trade_pending_n", np.int64),
        ("snap_pending", np.int64, (SN_LEVELS + 4 * SNAPSHOT_DEPTH,)),
        ("snap_pending_n", np.int64),
        ("snap_now", np.int64, (2, 2, SNAPSHOT_DEPTH)),  # ticks | lots, side, level
        ("snap_prev", np.int64, (2, 2, SNAPSHOT_DEPTH)),
        ("snap_t", np.int64),
        # feeds, trades, ticker
        ("trade_local", np.int64),
        ("ticker_local", np.int64),
        ("trade_seq", np.int64),
        ("last_trade_tick", np.int64),
        ("last_quote", np.int64, (4,)),  # bid tick, bid lots, ask tick, ask lots
        ("ticker_k", np.int64),
        ("premium", np.float64),
        ("premium_sum", np.float64),
        ("premium_n", np.int64),
        ("funding_period", np.int64),
        ("open_interest", np.float64),
        ("oi_factor", np.float64),
    ]
)


@dataclass(frozen=True)
class BookParams:
    """Microstructure of one venue: grid, sizes, depth, feeds, cadences (see SyntheticMarket)."""

    trades_per_day: int
    book_updates_per_day: int
    tick_size: float
    lot_size: float
    mean_trade_size: float
    level_size: float
    level_gap: float
    spread_ticks: float
    depth_min: int
    depth_max: int
    refill_prob: float
    feed_latency_us: float
    snapshot_interval_ms: int
    ticker_interval_ms: int
    open_interest_usd: float


@dataclass
class KernelState:
    """Mutable carry-over between kernel calls for one instrument-day (never shared)."""

    state: np.ndarray  # STATE_DTYPE, one element: the book and everything else
    scratch_t: np.ndarray  # message times of the current minute
    scratch_trade: np.ndarray  # and which of them are trades


@dataclass(frozen=True)
class DayPlan:
    exchange: str
    symbol: str
    day: date
    params: np.ndarray  # PARAMS_DTYPE, one element
    minute_i: np.ndarray  # int64 (1440, 3): trades, maker updates, first message index
    minute_f: np.ndarray  # float64 (1440, 3): buy probability, spread in ticks, premium target
    fair: np.ndarray  # FairPath packed into one float64 array (offsets in params)
    units: Units
    keys: np.ndarray

    def new_state(self) -> KernelState:
        p = self.params[0]
        state = np.zeros(1, STATE_DTYPE)
        st = state[0]
        st["keys"] = self.keys
        st["scratch_minute"] = -1
        st["prev_t"] = p["day_start"] - 1
        for name in ("best", "far", "last_trade_tick", "snap_t"):
            st[name] = -1
        st["last_quote"] = -2  # differs from any book, so the opening book writes a quote
        st["premium"] = self.minute_f[0, MF_PREMIUM]
        st["funding_period"] = -1
        st["open_interest"] = p["oi_target"]
        scratch = int((self.minute_i[:, MI_TRADES] + self.minute_i[:, MI_MAKERS]).max())
        return KernelState(
            state=state,
            scratch_t=np.zeros(scratch, np.int64),
            scratch_trade=np.zeros(scratch, np.bool_),
        )


def _premium_target(seed: int, labels: tuple[str, ...], path: np.ndarray) -> np.ndarray:
    """Per-minute premium the ticker's premium reverts to: 1 bp on average, wandering over hours
    (AR(1), 3 h memory, sd 4 bp) and leaning with the last 30 minutes' return."""
    rng = rng_for(seed, "premium", *labels)
    a = np.exp(-1.0 / 180.0)
    shocks = rng.normal(0.0, 4e-4 * np.sqrt(1 - a * a), MINUTES_PER_DAY)
    slow = np.empty(MINUTES_PER_DAY)
    level = rng.normal(0.0, 4e-4)
    for m in range(MINUTES_PER_DAY):
        level = a * level + shocks[m]
        slow[m] = level
    momentum = path[1:] - path[np.maximum(np.arange(1, MINUTES_PER_DAY + 1) - 30, 0)]
    return 1e-4 + slow + 0.05 * momentum


def build_plan(
    seed: int,
    book: BookParams,
    fair: FairPath,
    path: np.ndarray,
    sigma: np.ndarray,
    exchange: str,
    symbol: str,
    day: date,
) -> DayPlan:
    """Draw the day's per-minute tables and pack the kernel's inputs for one instrument."""
    labels = (exchange, symbol, day.isoformat())
    activity = activity_profile(day)
    weights = activity / activity.sum()
    trades = rng_for(seed, "trade-counts", *labels).poisson(book.trades_per_day * weights)
    trades = np.maximum(trades, 1)  # liquid perpetuals trade every minute
    makers = rng_for(seed, "maker-counts", *labels).poisson(book.book_updates_per_day * weights)
    counts = trades + makers
    first = 1 + np.concatenate([[0], np.cumsum(counts)[:-1]])  # message 0: the opening book
    minute_i = np.zeros((MINUTES_PER_DAY, 3), np.int64)
    minute_i[:, MI_TRADES], minute_i[:, MI_MAKERS], minute_i[:, MI_FIRST] = trades, makers, first
    drift = np.diff(path)
    minute_f = np.zeros((MINUTES_PER_DAY, 3))
    minute_f[:, MF_BUY_PROB] = 0.5 + 0.35 * np.tanh(drift / (sigma + 1e-12))
    # The touch widens with the minute's volatility, as market makers do.
    noise = rng_for(seed, "spread", *labels).gamma(8.0, 1.0 / 8.0, MINUTES_PER_DAY)
    spread = np.round(book.spread_ticks * noise * sigma / sigma.mean())
    minute_f[:, MF_SPREAD] = np.maximum(spread, 1)
    minute_f[:, MF_PREMIUM] = _premium_target(seed, labels, path)

    start = day_start_us(day)
    units = Units.of(book.tick_size, book.lot_size)
    tick = units.price
    open_price = float(np.exp(path[0]))
    day_rng = rng_for(seed, "venue-day", *labels)
    ticker_us = book.ticker_interval_ms * 1000
    depth_init = (book.depth_min + book.depth_max) // 2
    band = int(book.depth_max * max(book.level_gap, 1.0) * 8)
    per_message = max_l2_rows_per_message(book.depth_min, book.depth_max, depth_init)
    if per_message > PENDING_L2:  # the kernel stages a message's rows in a fixed-size field
        raise ValueError(f"depths {book.depth_min}..{book.depth_max} exceed the staging area")
    params = np.zeros(1, PARAMS_DTYPE)
    values = {
        "tick": book.tick_size,
        "tick_m": tick.multiple,
        "tick_unit": tick.unit,
        "lot_size": book.lot_size,
        "day_start": start,
        "last_minute_span_us": 59 * US_PER_SECOND,  # 1 s clear of midnight: arrivals stay in day
        "total_msgs": 1 + int(counts.sum()),
        "latency_median_us": book.feed_latency_us,
        "latency_sigma": 0.5,
        "latency_min_us": 200.0,
        "latency_max_us": 400_000.0,
        "trade_median_lots": book.mean_trade_size / book.lot_size,
        "trade_sigma": 1.1,
        "level_median_lots": book.level_size / book.lot_size,
        "level_sigma": 0.8,
        "depth_growth": 0.05,
        "level_gap": book.level_gap,
        "depth_min": book.depth_min,
        "depth_max": book.depth_max,
        "depth_init": depth_init,
        "l2_rows_per_message": per_message,
        "margin": band + 4096,
        "refill_prob": book.refill_prob,
        "maker_depth_ticks": 4.0 * book.level_gap,
        "maker_remove_prob": 0.15,
        "snapshot_interval_us": book.snapshot_interval_ms * 1000,
        "snapshot_depth": SNAPSHOT_DEPTH,
        "ticker_interval_us": float(ticker_us),
        "ticker_interval_i": ticker_us,
        "ticker_count": (US_PER_DAY - US_PER_SECOND) // ticker_us,
        "oi_target": book.open_interest_usd / open_price * float(np.exp(day_rng.normal(0, 0.05))),
        "premium_sd": 1e-4,
        "premium_tau_us": 300.0 * US_PER_SECOND,
        "oi_sd": 0.03,
        "oi_tau_us": 6 * 3600.0 * US_PER_SECOND,
        "funding_cap": 0.003,
        "first_trade_id": int(day_rng.integers(1_000_000_000, 2_000_000_000)),
        "fast_tau_us": fair.fast_tau_us,
        "fast_settle_us": int(FAST_SETTLED_TAUS * fair.fast_tau_us),
    }
    parts = {
        "knots": fair.knots,
        "fair_jump_level": fair.jump_level,
        "fair_jump": fair.jump,
        "fair_jump_at": fair.jump_at,
        "fair_fast_t": fair.fast_t.astype(np.float64),  # µs times are exact in float64
        "fair_fast_push": fair.fast_push,
        "fair_fast_cum": fair.fast_cum,
    }
    offset = 0
    for name, part in parts.items():
        if name != "knots":
            values[name] = offset
        offset += part.size
    values["n_minutes"] = MINUTES_PER_DAY
    values["n_fast"] = fair.fast_t.size
    for name, value in values.items():
        params[0][name] = value
    return DayPlan(
        exchange=exchange,
        symbol=symbol,
        day=day,
        params=params,
        minute_i=minute_i,
        minute_f=minute_f,
        fair=np.concatenate(list(parts.values())),
        units=units,
        keys=stream_keys(N_STREAMS, seed, *labels),
    )
