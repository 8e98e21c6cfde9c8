"""The strategy's side of the replay: what it knows, the orders it sends, how it reacts.

The strategy only ever sees its **local view**: the book rebuilt from events whose
``local_timestamp`` has passed (the quotes feed when recorded, else the depth feed) and the
responses that have reached it. Orders leave at the decision's local time and arrive an
order-entry latency later; fills become known a response latency after they happen.

The LLM-signal strategy, as orders (same `LLMStrategyParams` as the bar engine):

* Each signal decision carries the bar engine's action (long / short / flat / keep, with its
  fresh-crossing rule). A new target direction sets a **desired position** of
  ``position_size * equity / mid`` base units (known equity, local mid, rounded down to lots).
* The gap between desired and known position is worked by one order at a time: a market order
  (``style="market"``) or a post-only limit at the local best price of its side
  (``style="passive"``), re-quoted at each check when the best moved, and sent as a market order
  once ``passive_timeout_s`` has passed. A remainder that expired (depth exhausted) or a
  rejected order is retried at the next check.
* Stop-loss / take-profit: after every local message (a quote, an L2 message), the local mid
  against the average entry price of the known position; a trigger flattens with a market
  order.
* Holding limit: ``holding_bars * bar_seconds`` after the entry decision, the target goes flat.
  After any such exit a new entry needs a fresh signal crossing, as in the bar engine.
* A decision taken before the local view has both sides of the book (no mid to size it) is
  skipped; the next decision is evaluated as usual.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tardis_assets.lib.backtest.kernel import ACTION_FLAT, ACTION_KEEP, ACTION_LONG, ACTION_SHORT
from tardis_assets.lib.execution.book import ASK, BID, NONE, best_index
from tardis_assets.lib.execution.matching import book_mid
from tardis_assets.lib.execution.orders import (
    BUY,
    FF_FEE,
    FF_PRICE,
    FF_QTY,
    FI_ORDER,
    OF_ARR_ASK,
    OF_ARR_BID,
    OF_CUM,
    OF_DEC_ASK,
    OF_DEC_BID,
    OF_DEC_MID,
    OF_FEE,
    OF_FILLED,
    OF_FRONT,
    OF_FRONT0,
    OF_KFILLED,
    OF_LEAVES,
    OF_NOTIONAL,
    OF_PRICE,
    OF_QTY,
    OF_REF_MID,
    OI_ARRIVED,
    OI_ATTEMPT,
    OI_CANCEL_SENT,
    OI_DECIDED,
    OI_DECISION,
    OI_DONE,
    OI_INFO_LTS,
    OI_INFO_TS,
    OI_KNOWN,
    OI_KSTATUS,
    OI_LEVELS,
    OI_NFILLS,
    OI_PIDX,
    OI_REASON,
    OI_SIDE,
    OI_STATUS,
    OI_TIF,
    OI_TYPE,
    OT_LIMIT,
    OT_MARKET,
    R_HOLDING,
    R_SIGNAL,
    R_STOP_LOSS,
    R_TAKE_PROFIT,
    SELL,
    ST_CANCELED,
    ST_FILLED,
    ST_OPEN,
    ST_SENT,
    TIF_IOC,
    TIF_POST_ONLY,
)
from tardis_assets.lib.execution.state import (
    NEVER,
    PF_LOT,
    PF_SIZE,
    PF_STOP,
    PF_TP,
    PI_CHECK_US,
    PI_ENTRY_LAT,
    PI_HOLD_US,
    PI_STRATEGY,
    PI_STYLE,
    PI_TIMEOUT_US,
    REQ_CANCEL,
    REQ_NEW,
    RESP_ACK,
    RESP_DONE,
    RESP_FILL,
    RQ_KIND,
    RQ_ORDER,
    RQ_TIME,
    RS_FILL,
    RS_KIND,
    RS_ORDER,
    SF_DESIRED,
    SF_KAVG,
    SF_KCASH,
    SF_KPOS,
    SI_ATTEMPT,
    SI_CROSS,
    SI_DECISION,
    SI_DIR,
    SI_ENTRY_DECIDED,
    SI_HOLD_AT,
    SI_INFO_LTS,
    SI_INFO_TS,
    SI_N_ORDERS,
    SI_NEXT_CHECK,
    SI_PASSIVE_SINCE,
    SI_REASON,
    SI_REQ_TAIL,
    SI_WORKING,
    STRATEGY_LLM,
    STYLE_MARKET,
    STYLE_PASSIVE,
    X_FF,
    X_FI,
    X_OF,
    X_OI,
    X_PF,
    X_PI,
    X_RESP,
    X_SF,
    X_SI,
    index_of,
    price_of,
)


@njit(cache=True, nogil=True)
def push_request(req, si, t, oid, kind) -> None:
    k = si[SI_REQ_TAIL]
    req[k, RQ_TIME] = t
    req[k, RQ_ORDER] = oid
    req[k, RQ_KIND] = kind
    si[SI_REQ_TAIL] = k + 1


@njit(cache=True, nogil=True)
def local_best(lbook, pf) -> tuple[float, float]:
    """Best bid and ask of the local view (NaN for an empty side)."""
    bs = lbook[2]
    b = best_index(bs, BID)
    a = best_index(bs, ASK)
    bid = price_of(b, pf) if b != NONE else np.nan
    ask = price_of(a, pf) if a != NONE else np.nan
    return bid, ask


@njit(cache=True, nogil=True)
def send_order(t, side, otype, tif, pidx, qty, reason, decision, ref_mid, lbook, ctx, req) -> int:
    """Record a new order decided at local time ``t`` and put it on the wire."""
    oi = ctx[X_OI]
    of = ctx[X_OF]
    si = ctx[X_SI]
    pi = ctx[X_PI]
    pf = ctx[X_PF]
    k = si[SI_N_ORDERS]
    si[SI_N_ORDERS] = k + 1
    bid, ask = local_best(lbook, pf)
    oi[k, OI_SIDE] = side
    oi[k, OI_TYPE] = otype
    oi[k, OI_TIF] = tif
    oi[k, OI_STATUS] = ST_SENT
    oi[k, OI_PIDX] = pidx
    oi[k, OI_REASON] = reason
    oi[k, OI_ATTEMPT] = si[SI_ATTEMPT]
    oi[k, OI_DECIDED] = t
    oi[k, OI_ARRIVED] = -1
    oi[k, OI_DONE] = -1
    oi[k, OI_KNOWN] = -1
    oi[k, OI_INFO_LTS] = si[SI_INFO_LTS]
    oi[k, OI_INFO_TS] = si[SI_INFO_TS]
    oi[k, OI_CANCEL_SENT] = -1
    oi[k, OI_LEVELS] = 0
    oi[k, OI_NFILLS] = 0
    oi[k, OI_DECISION] = decision
    oi[k, OI_KSTATUS] = ST_SENT
    of[k, OF_PRICE] = price_of(pidx, pf) if otype == OT_LIMIT else np.nan
    of[k, OF_QTY] = qty
    of[k, OF_LEAVES] = qty
    of[k, OF_FILLED] = 0.0
    of[k, OF_NOTIONAL] = 0.0
    of[k, OF_FEE] = 0.0
    of[k, OF_FRONT] = np.nan
    of[k, OF_CUM] = 0.0
    of[k, OF_DEC_MID] = 0.5 * (bid + ask)
    of[k, OF_DEC_BID] = bid
    of[k, OF_DEC_ASK] = ask
    of[k, OF_ARR_BID] = np.nan
    of[k, OF_ARR_ASK] = np.nan
    of[k, OF_FRONT0] = np.nan
    of[k, OF_KFILLED] = 0.0
    of[k, OF_REF_MID] = ref_mid
    push_request(req, si, t + pi[PI_ENTRY_LAT], k, REQ_NEW)
    return k


@njit(cache=True, nogil=True)
def send_cancel(t, oid, ctx, req) -> None:
    oi = ctx[X_OI]
    si = ctx[X_SI]
    pi = ctx[X_PI]
    if oi[oid, OI_CANCEL_SENT] >= 0:
        return
    oi[oid, OI_CANCEL_SENT] = t
    push_request(req, si, t + pi[PI_ENTRY_LAT], oid, REQ_CANCEL)


@njit(cache=True, nogil=True)
def learn_fill(fid, ctx) -> None:
    """A fill reaches the strategy: known position, cash and average entry price move."""
    oi = ctx[X_OI]
    of = ctx[X_OF]
    fi = ctx[X_FI]
    ff = ctx[X_FF]
    sf = ctx[X_SF]
    oid = fi[fid, FI_ORDER]
    side = oi[oid, OI_SIDE]
    qty = ff[fid, FF_QTY]
    price = ff[fid, FF_PRICE]
    old = sf[SF_KPOS]
    new = old + side * qty
    sf[SF_KCASH] -= side * qty * price + ff[fid, FF_FEE]
    if old == 0.0 or (old > 0.0) == (side > 0):
        sf[SF_KAVG] = (sf[SF_KAVG] * abs(old) + price * qty) / (abs(old) + qty)
    elif abs(new) < 1e-12 * max(abs(old), qty):
        new = 0.0
        sf[SF_KAVG] = 0.0
    elif (new > 0.0) != (old > 0.0):
        sf[SF_KAVG] = price
    sf[SF_KPOS] = new
    of[oid, OF_KFILLED] += qty


@njit(cache=True, nogil=True)
def schedule_check(t, si, pi) -> None:
    if si[SI_NEXT_CHECK] == NEVER:
        si[SI_NEXT_CHECK] = t + pi[PI_CHECK_US]


@njit(cache=True, nogil=True)
def reconcile(t, lbook, ctx, req, plan) -> None:
    """Work the gap between the desired and the known position with (at most) one order."""
    oi = ctx[X_OI]
    of = ctx[X_OF]
    si = ctx[X_SI]
    sf = ctx[X_SF]
    pi = ctx[X_PI]
    pf = ctx[X_PF]
    lot = pf[PF_LOT]
    need = sf[SF_DESIRED] - sf[SF_KPOS]
    w = si[SI_WORKING]
    if w >= 0:
        if oi[w, OI_CANCEL_SENT] >= 0 or oi[w, OI_TYPE] == OT_MARKET:
            return  # waiting for the cancel's answer / a market order is done on arrival
        side = oi[w, OI_SIDE]
        open_qty = of[w, OF_QTY] - of[w, OF_KFILLED]
        wrong = need * side < 0.5 * lot or open_qty > abs(need) + 0.5 * lot
        bid, ask = local_best(lbook, pf)
        best_own = bid if side == BUY else ask
        stale = (not np.isfinite(best_own)) or index_of(best_own, pf) != oi[w, OI_PIDX]
        if wrong or stale or si[SI_CROSS] != 0:
            send_cancel(t, w, ctx, req)
        return
    if abs(need) < 0.5 * lot:
        return
    side = BUY if need > 0.0 else SELL
    qty = np.floor(abs(need) / lot + 1e-9) * lot
    if qty <= 0.0:
        return
    d = si[SI_DECISION]
    ref = plan[4][plan[2][d]] if d >= 0 else np.nan
    aggressive = pi[PI_STYLE] == STYLE_MARKET or si[SI_CROSS] != 0
    if aggressive:
        oid = send_order(
            t, side, OT_MARKET, TIF_IOC, 0, qty, si[SI_REASON], d, ref, lbook, ctx, req
        )
    else:
        bid, ask = local_best(lbook, pf)
        best_own = bid if side == BUY else ask
        if not np.isfinite(best_own):
            schedule_check(t, si, pi)
            return
        oid = send_order(
            t,
            side,
            OT_LIMIT,
            TIF_POST_ONLY,
            index_of(best_own, pf),
            qty,
            si[SI_REASON],
            d,
            ref,
            lbook,
            ctx,
            req,
        )
        schedule_check(t, si, pi)
    si[SI_WORKING] = oid
    si[SI_ATTEMPT] += 1


@njit(cache=True, nogil=True)
def set_target(t, target, reason, decision, urgent, lbook, ctx, req, plan) -> bool:
    """Adopt a new target direction; False when the local view has no mid to size it."""
    si = ctx[X_SI]
    sf = ctx[X_SF]
    pi = ctx[X_PI]
    pf = ctx[X_PF]
    bid, ask = local_best(lbook, pf)
    mid = 0.5 * (bid + ask)
    if target != 0 and not np.isfinite(mid):
        return False
    cur = si[SI_DIR]
    if target != 0:
        equity = sf[SF_KCASH] + sf[SF_KPOS] * mid
        lot = pf[PF_LOT]
        qty = np.floor(max(pf[PF_SIZE] * equity / mid, 0.0) / lot + 1e-9) * lot
        sf[SF_DESIRED] = target * qty
        if cur != target:
            si[SI_ENTRY_DECIDED] = t
            hold = pi[PI_HOLD_US]
            si[SI_HOLD_AT] = t + hold if hold > 0 else NEVER
    else:
        sf[SF_DESIRED] = 0.0
        si[SI_HOLD_AT] = NEVER
    si[SI_DIR] = target
    si[SI_REASON] = reason
    si[SI_DECISION] = decision
    si[SI_ATTEMPT] = 0
    si[SI_CROSS] = 1 if urgent else 0
    si[SI_PASSIVE_SINCE] = t
    reconcile(t, lbook, ctx, req, plan)
    return True


@njit(cache=True, nogil=True)
def on_decision(t, d, lbook, ctx, req, plan) -> None:
    """A signal decision (its bar-engine action) at local time ``t``."""
    si = ctx[X_SI]
    action = plan[1][d]
    if action == ACTION_KEEP:
        return
    if action == ACTION_LONG:
        target = 1
    elif action == ACTION_SHORT:
        target = -1
    elif action == ACTION_FLAT:
        target = 0
    else:
        return
    if target == si[SI_DIR]:
        return
    set_target(t, target, R_SIGNAL, d, False, lbook, ctx, req, plan)


@njit(cache=True, nogil=True)
def on_check(t, lbook, ctx, req, plan) -> None:
    """Periodic look at the working order: re-quote, time out to market, retry remainders."""
    oi = ctx[X_OI]
    si = ctx[X_SI]
    sf = ctx[X_SF]
    pi = ctx[X_PI]
    pf = ctx[X_PF]
    si[SI_NEXT_CHECK] = NEVER
    lot = pf[PF_LOT]
    need = sf[SF_DESIRED] - sf[SF_KPOS]
    timeout = pi[PI_TIMEOUT_US]
    if (
        pi[PI_STYLE] == STYLE_PASSIVE
        and timeout > 0
        and abs(need) >= 0.5 * lot
        and t - si[SI_PASSIVE_SINCE] >= timeout
    ):
        si[SI_CROSS] = 1
    reconcile(t, lbook, ctx, req, plan)
    w = si[SI_WORKING]
    if (w >= 0 and oi[w, OI_TYPE] == OT_LIMIT) or (w < 0 and abs(need) >= 0.5 * lot):
        schedule_check(t, si, pi)


@njit(cache=True, nogil=True)
def on_hold_expiry(t, lbook, ctx, req, plan) -> None:
    si = ctx[X_SI]
    si[SI_HOLD_AT] = NEVER
    if si[SI_DIR] != 0:
        set_target(t, 0, R_HOLDING, -1, False, lbook, ctx, req, plan)


@njit(cache=True, nogil=True, inline="always")
def exit_band(si, sf, pf, watch) -> tuple[float, float]:
    """Local mids at which stop-loss / take-profit fire: exits when mid <= lo or mid >= hi.

    A long stops at ``avg * (1 - stop_loss)`` and takes profit at ``avg * (1 + take_profit)``
    (a short the mirror image), ``avg`` the known average entry price; (-inf, inf) when no exit
    is armed (flat, already exiting, or neither set).
    """
    kpos = sf[SF_KPOS]
    avg = sf[SF_KAVG]
    if not watch or kpos == 0.0 or si[SI_DIR] == 0 or avg <= 0.0:
        return -np.inf, np.inf
    stop = pf[PF_STOP]
    take = pf[PF_TP]
    if kpos > 0.0:
        lo = avg * (1.0 - stop) if stop > 0.0 else -np.inf
        hi = avg * (1.0 + take) if take > 0.0 else np.inf
    else:
        lo = avg * (1.0 - take) if take > 0.0 else -np.inf
        hi = avg * (1.0 + stop) if stop > 0.0 else np.inf
    return lo, hi


@njit(cache=True, nogil=True)
def check_exits(t, lbook, ctx, req, plan) -> bool:
    """Stop-loss / take-profit on the local mid (see `exit_band`); True when one fired."""
    si = ctx[X_SI]
    sf = ctx[X_SF]
    pf = ctx[X_PF]
    lo, hi = exit_band(si, sf, pf, True)
    bid, ask = local_best(lbook, pf)
    mid = 0.5 * (bid + ask)
    if not np.isfinite(mid):
        return False
    kpos = sf[SF_KPOS]
    if (kpos > 0.0 and mid <= lo) or (kpos < 0.0 and mid >= hi):
        set_target(t, 0, R_STOP_LOSS, -1, True, lbook, ctx, req, plan)
        return True
    if (kpos > 0.0 and mid >= hi) or (kpos < 0.0 and mid <= lo):
        set_target(t, 0, R_TAKE_PROFIT, -1, True, lbook, ctx, req, plan)
        return True
    return False


@njit(cache=True, nogil=True)
def on_response(r, t, lbook, ctx, req, plan) -> None:
    """Response ``r`` of the log reaches the strategy at local time ``t``."""
    oi = ctx[X_OI]
    si = ctx[X_SI]
    sf = ctx[X_SF]
    pi = ctx[X_PI]
    pf = ctx[X_PF]
    resp = ctx[X_RESP]
    kind = resp[r, RS_KIND]
    oid = resp[r, RS_ORDER]
    if kind == RESP_FILL:
        learn_fill(resp[r, RS_FILL], ctx)
        return
    if kind == RESP_ACK:
        if oi[oid, OI_KSTATUS] == ST_SENT:
            oi[oid, OI_KSTATUS] = ST_OPEN
        return
    if kind != RESP_DONE:
        return  # a cancel that came too late: the order's own DONE tells its fate
    status = oi[oid, OI_STATUS]
    oi[oid, OI_KSTATUS] = status
    oi[oid, OI_KNOWN] = t
    if si[SI_WORKING] == oid:
        si[SI_WORKING] = -1
    if pi[PI_STRATEGY] != STRATEGY_LLM:
        return
    if status in (ST_FILLED, ST_CANCELED):
        reconcile(t, lbook, ctx, req, plan)
        if si[SI_WORKING] < 0 and abs(sf[SF_DESIRED] - sf[SF_KPOS]) >= 0.5 * pf[PF_LOT]:
            schedule_check(t, si, pi)
    else:
        schedule_check(t, si, pi)


@njit(cache=True, nogil=True)
def local_mid(lbook, pf) -> float:
    return book_mid(lbook[2], pf)
