"""The replay loop: one clock over the feed, the wire and the strategy, resumable per block.

Seven sources of work are merged by time; on equal times they run in this order (the same
convention as hftbacktest, so the two can be compared event for event):

1. local feed events (``local_timestamp``): the strategy's view of the book moves;
2. responses reaching the strategy (fills, acknowledgements, terminal states);
3. strategy timers: window-end reference prices, signal decisions / scripted commands, the
   holding-period exit, periodic checks of a working order;
4. exchange feed events (``timestamp``): the matching engine's book moves, resting orders fill;
5. order requests reaching the matching engine (order-entry latency after the decision);
6. funding settlements; 7. equity marks.

So a decision at time t has seen every local event with ``local_timestamp <= t`` and none later,
and an order arriving at t meets the book after every exchange event with ``timestamp <= t``.
The driver hands over events in blocks holding everything before ``horizon``; the loop handles
all work timed before it and returns (or returns early asking for bigger tables).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tardis_assets.lib.execution.book import NO_GUARD, RE_BAND, RE_GUARD, replay_events
from tardis_assets.lib.execution.matching import (
    WALK_CAP,
    apply_event,
    book_mid,
    on_cancel,
    on_new_order,
)
from tardis_assets.lib.execution.orders import OI_PIDX, OI_SIDE
from tardis_assets.lib.execution.state import (
    EQ_CASH,
    EQ_EQUITY,
    EQ_FEES,
    EQ_FUNDING,
    EQ_MID,
    EQ_POS,
    FU_MARK,
    FU_PAYMENT,
    FU_POS,
    K_GROW,
    K_OK,
    MAX_RESTING,
    NEVER,
    PF_INV,
    PF_STOP,
    PF_TICK,
    PF_TP,
    PI_ENTRY_LAT,
    PI_FUSE,
    PI_RESP_LAT,
    PI_STRATEGY,
    REQ_NEW,
    RQ_KIND,
    RQ_ORDER,
    RQ_TIME,
    RS_TIME,
    SF_CASH,
    SF_FEES,
    SF_FUNDING,
    SF_KCASH,
    SF_KPOS,
    SF_LAST_MID,
    SF_LAST_TRADE,
    SF_LOCAL_LAST_TRADE,
    SF_POS,
    SI_CMD_PTR,
    SI_DEC_PTR,
    SI_DIR,
    SI_EXCH_POS,
    SI_FUND_PTR,
    SI_GRID_PTR,
    SI_HOLD_AT,
    SI_INFO_LTS,
    SI_INFO_TS,
    SI_LOCAL_POS,
    SI_N_FILLS,
    SI_N_ORDERS,
    SI_N_REST,
    SI_NEXT_CHECK,
    SI_REF_PTR,
    SI_REQ_HEAD,
    SI_REQ_TAIL,
    SI_RESP_HEAD,
    SI_RESP_TAIL,
    SI_STATUS,
    STRATEGY_LLM,
    X_FI,
    X_OI,
    X_PF,
    X_PI,
    X_RESP,
    X_REST,
    X_SF,
    X_SI,
    index_of,
)
from tardis_assets.lib.execution.strategy import (
    check_exits,
    exit_band,
    local_mid,
    on_check,
    on_decision,
    on_hold_expiry,
    on_response,
    send_cancel,
    send_order,
)

# scripted command columns
C_TIME = 0
C_OP = 1  # 0 new order, 1 cancel
C_SIDE = 2
C_TYPE = 3
C_TIF = 4
C_REF = 5  # cancel: index of the command whose order to cancel
C_ICOLS = 6
C_PRICE = 0
C_QTY = 1
C_FCOLS = 2
OP_NEW = 0
OP_CANCEL = 1

FILL_MARGIN = WALK_CAP + 4 * MAX_RESTING + 16
ORDER_MARGIN = 16


@njit(cache=True, nogil=True, inline="always")
def _room(oi, fi, req, resp, si) -> bool:
    """Whether the tables can take the worst case of one more step without growing."""
    return (
        si[SI_N_ORDERS] + ORDER_MARGIN <= oi.shape[0]
        and si[SI_N_FILLS] + FILL_MARGIN <= fi.shape[0]
        and si[SI_REQ_TAIL] + ORDER_MARGIN <= req.shape[0]
        and si[SI_RESP_TAIL] + 2 * FILL_MARGIN <= resp.shape[0]
    )


@njit(cache=True, nogil=True, inline="always")
def _strategy_time(si, llm, ref_time, dec_time, cmd_i) -> int:
    """Local time of the next strategy timer (NEVER if none)."""
    t = min(si[SI_NEXT_CHECK], si[SI_HOLD_AT])
    if si[SI_REF_PTR] < ref_time.shape[0]:
        t = min(t, ref_time[si[SI_REF_PTR]])
    if llm:
        if si[SI_DEC_PTR] < dec_time.shape[0]:
            t = min(t, dec_time[si[SI_DEC_PTR]])
    elif si[SI_CMD_PTR] < cmd_i.shape[0]:
        t = min(t, cmd_i[si[SI_CMD_PTR], C_TIME])
    return t


@njit(cache=True, nogil=True)
def _guard(oi, rest, si) -> tuple[int, int, int, int]:
    """Tick ranges of the resting buys and sells (see `book.replay_events`)."""
    big = np.iinfo(np.int64).max
    b_lo, b_hi, s_lo, s_hi = big, -big, big, -big
    for j in range(si[SI_N_REST]):
        oid = rest[j]
        p = oi[oid, OI_PIDX]
        if oi[oid, OI_SIDE] > 0:
            b_lo = min(b_lo, p)
            b_hi = max(b_hi, p)
        else:
            s_lo = min(s_lo, p)
            s_hi = max(s_hi, p)
    return b_lo, b_hi, s_lo, s_hi


@njit(cache=True, nogil=True, inline="always")
def _later(t, latency) -> int:
    """``t + latency`` without overflowing NEVER."""
    return NEVER if t >= NEVER - latency else t + latency


@njit(cache=True, nogil=True)
def _run_strategy(t, lbook, ctx, req, plan, script) -> None:
    """One step of the strategy timers due at ``t`` (the loop calls again while any is due).

    Order: window-end reference prices, then one signal decision or scripted command at a
    time (each may send an order, so table room is checked between them), then the holding
    exit, then the working-order check.
    """
    si = ctx[X_SI]
    pi = ctx[X_PI]
    pf = ctx[X_PF]
    ref_time, ref_mid = plan[3], plan[4]
    while si[SI_REF_PTR] < ref_time.shape[0] and ref_time[si[SI_REF_PTR]] == t:
        ref_mid[si[SI_REF_PTR]] = local_mid(lbook, pf)
        si[SI_REF_PTR] += 1
    if pi[PI_STRATEGY] == STRATEGY_LLM:
        dec_time = plan[0]
        if si[SI_DEC_PTR] < dec_time.shape[0] and dec_time[si[SI_DEC_PTR]] == t:
            d = si[SI_DEC_PTR]
            si[SI_DEC_PTR] = d + 1
            on_decision(t, d, lbook, ctx, req, plan)
            return
        if si[SI_HOLD_AT] == t:
            on_hold_expiry(t, lbook, ctx, req, plan)
            return
        if si[SI_NEXT_CHECK] == t:
            on_check(t, lbook, ctx, req, plan)
        return
    cmd_i, cmd_f, cmd_oid = script
    if si[SI_CMD_PTR] < cmd_i.shape[0] and cmd_i[si[SI_CMD_PTR], C_TIME] == t:
        c = si[SI_CMD_PTR]
        si[SI_CMD_PTR] = c + 1
        if cmd_i[c, C_OP] == OP_NEW:
            price = cmd_f[c, C_PRICE]
            pidx = index_of(price, pf) if np.isfinite(price) else 0
            cmd_oid[c] = send_order(
                t,
                cmd_i[c, C_SIDE],
                cmd_i[c, C_TYPE],
                cmd_i[c, C_TIF],
                pidx,
                cmd_f[c, C_QTY],
                0,
                -1,
                np.nan,
                lbook,
                ctx,
                req,
            )
        else:
            target = cmd_oid[cmd_i[c, C_REF]]
            if target >= 0:
                send_cancel(t, target, ctx, req)
        return
    if si[SI_NEXT_CHECK] == t:
        si[SI_NEXT_CHECK] = NEVER
    if si[SI_HOLD_AT] == t:
        si[SI_HOLD_AT] = NEVER


@njit(cache=True, nogil=True)
def run_block(
    x_ts,
    x_kind,
    x_px,
    x_qty,
    l_ts,
    l_lts,
    l_kind,
    l_px,
    l_qty,
    horizon,
    xbook,
    lbook,
    ctx,
    req,
    plan,
    script,
    funding,
    grid,
) -> int:
    """Advance the replay over everything timed before ``horizon``; K_OK or K_GROW.

    The exchange side (X: feed events by ``timestamp``, order arrivals, funding, marks) and the
    strategy side (L: feed events by ``local_timestamp``, responses, timers) only meet through
    the wire, so each runs ahead of the other as far as causality allows: X may process up to
    the earliest time L could still send an order plus the entry latency, L up to the earliest
    time X could still send a response plus the response latency. With no resting order and no
    stop to watch, both run in tight loops to their next control event; the result is the same
    as processing every item in global time order with the tie rules above.
    """
    oi = ctx[X_OI]
    fi = ctx[X_FI]
    si = ctx[X_SI]
    sf = ctx[X_SF]
    pi = ctx[X_PI]
    pf = ctx[X_PF]
    resp = ctx[X_RESP]
    rest = ctx[X_REST]
    fund_time, fund_rate, fund_mark, fund_out = funding
    grid_time, eq_out = grid
    ref_time = plan[3]
    dec_time = plan[0]
    cmd_i = script[0]
    fuse = pi[PI_FUSE] != 0
    xq, xg, xbs = xbook
    lq, lg, lbs = lbook
    tick = pf[PF_TICK]
    inv = pf[PF_INV]
    entry = pi[PI_ENTRY_LAT]
    response = pi[PI_RESP_LAT]
    llm = pi[PI_STRATEGY] == STRATEGY_LLM
    watch_exits = llm and (pf[PF_STOP] > 0.0 or pf[PF_TP] > 0.0)
    ie = si[SI_EXCH_POS]
    il = si[SI_LOCAL_POS]
    nx = x_ts.shape[0]
    nl = l_lts.shape[0]
    last = horizon - 1
    status = K_OK
    while True:
        tl = l_lts[il] if il < nl else NEVER
        tr = resp[si[SI_RESP_HEAD], RS_TIME] if si[SI_RESP_HEAD] < si[SI_RESP_TAIL] else NEVER
        tsg = _strategy_time(si, llm, ref_time, dec_time, cmd_i)
        tx = x_ts[ie] if ie < nx else NEVER
        to = req[si[SI_REQ_HEAD], RQ_TIME] if si[SI_REQ_HEAD] < si[SI_REQ_TAIL] else NEVER
        tf = fund_time[si[SI_FUND_PTR]] if si[SI_FUND_PTR] < fund_time.shape[0] else NEVER
        tg = grid_time[si[SI_GRID_PTR]] if si[SI_GRID_PTR] < grid_time.shape[0] else NEVER
        n_local = min(tl, tr, tsg)
        n_exch = min(tx, to, tf, tg)
        if min(n_local, n_exch) > last:
            break
        if not _room(oi, fi, req, resp, si):
            status = K_GROW
            break
        exits = watch_exits and sf[SF_KPOS] != 0.0 and si[SI_DIR] != 0
        l_emit = min(tr, tsg, tl if exits else NEVER)  # earliest order L could still send
        x_emit = min(to, tx if si[SI_N_REST] > 0 else NEVER)  # earliest X response
        lim_x = min(_later(l_emit, entry) - 1, last)
        lim_l = min(_later(x_emit, response) - 1, last)
        if n_local <= lim_l or n_exch > lim_x:
            # ---- strategy side first: it runs ahead as far as the wire allows, so the exchange
            # side then moves in long batches. When both wait on each other (zero latencies,
            # equal times) the strategy's items at that time go first, as in global time order.
            lim = lim_l if n_local <= lim_l else n_local
            sent = si[SI_REQ_TAIL]
            while si[SI_REQ_TAIL] == sent:
                tl = l_lts[il] if il < nl else NEVER
                r = si[SI_RESP_HEAD]
                tr = resp[r, RS_TIME] if r < si[SI_RESP_TAIL] else NEVER
                tsg = _strategy_time(si, llm, ref_time, dec_time, cmd_i)
                control = min(tr, tsg)
                if tl <= control:
                    if tl > lim:
                        break
                    bound = min(control, lim)
                    lo, hi = exit_band(si, sf, pf, watch_exits)
                    il, trade, code = replay_events(
                        lq,
                        lg,
                        lbs,
                        l_lts,
                        l_kind,
                        l_px,
                        l_qty,
                        il,
                        bound,
                        False,
                        tick,
                        inv,
                        lo,
                        hi,
                        NO_GUARD,
                    )
                    if np.isfinite(trade):
                        sf[SF_LOCAL_LAST_TRADE] = trade
                    if il > 0:
                        si[SI_INFO_LTS] = l_lts[il - 1]
                        si[SI_INFO_TS] = l_ts[il - 1]
                    if code == RE_BAND:
                        check_exits(l_lts[il - 1], lbook, ctx, req, plan)
                    continue
                if control > lim:
                    break
                if not _room(oi, fi, req, resp, si):
                    break
                if tr == control:
                    r = si[SI_RESP_HEAD]
                    si[SI_RESP_HEAD] = r + 1
                    on_response(r, tr, lbook, ctx, req, plan)
                else:
                    _run_strategy(tsg, lbook, ctx, req, plan, script)
        else:
            # ---- exchange side --------------------------------------------------------------
            tail = si[SI_RESP_TAIL]
            while si[SI_RESP_TAIL] == tail:
                tx = x_ts[ie] if ie < nx else NEVER
                to = req[si[SI_REQ_HEAD], RQ_TIME] if si[SI_REQ_HEAD] < si[SI_REQ_TAIL] else NEVER
                tf = fund_time[si[SI_FUND_PTR]] if si[SI_FUND_PTR] < fund_time.shape[0] else NEVER
                tg = grid_time[si[SI_GRID_PTR]] if si[SI_GRID_PTR] < grid_time.shape[0] else NEVER
                control = min(to, tf, tg)
                if tx <= control:
                    if tx > lim_x:
                        break
                    bound = min(control, lim_x)
                    guard = _guard(oi, rest, si) if si[SI_N_REST] > 0 else NO_GUARD
                    ie, trade, code = replay_events(
                        xq,
                        xg,
                        xbs,
                        x_ts,
                        x_kind,
                        x_px,
                        x_qty,
                        ie,
                        bound,
                        fuse,
                        tick,
                        inv,
                        -np.inf,
                        np.inf,
                        guard,
                    )
                    if np.isfinite(trade):
                        sf[SF_LAST_TRADE] = trade
                    if code == RE_GUARD:
                        # this one may touch a resting order: the engine's full path
                        apply_event(
                            x_kind[ie], x_px[ie], x_qty[ie], x_ts[ie], xbook, True, fuse, ctx
                        )
                        ie += 1
                    continue
                if control > lim_x:
                    break
                if to == control:
                    k = si[SI_REQ_HEAD]
                    si[SI_REQ_HEAD] = k + 1
                    if req[k, RQ_KIND] == REQ_NEW:
                        on_new_order(req[k, RQ_ORDER], to, xbook, ctx)
                    else:
                        on_cancel(req[k, RQ_ORDER], to, ctx)
                elif tf == control:
                    _settle_funding(tf, xbook, sf, pf, si, fund_rate, fund_mark, fund_out)
                else:
                    _mark(xbook, sf, pf, si, eq_out)
    si[SI_EXCH_POS] = ie
    si[SI_LOCAL_POS] = il
    si[SI_STATUS] = status
    return status


@njit(cache=True, nogil=True)
def _settle_funding(t, xbook, sf, pf, si, fund_rate, fund_mark, fund_out) -> None:
    """Funding at exchange time ``t``: the engine's position pays rate * position * mark."""
    f = si[SI_FUND_PTR]
    si[SI_FUND_PTR] = f + 1
    mark = fund_mark[f]
    if not np.isfinite(mark):
        mark = book_mid(xbook[2], pf)
    if not np.isfinite(mark):
        mark = sf[SF_LAST_TRADE]
    pos = sf[SF_POS]
    pay = fund_rate[f] * pos * mark if pos != 0.0 and np.isfinite(mark) else 0.0
    sf[SF_CASH] -= pay
    sf[SF_KCASH] -= pay
    sf[SF_FUNDING] += pay
    fund_out[f, FU_POS] = pos
    fund_out[f, FU_MARK] = mark
    fund_out[f, FU_PAYMENT] = pay


@njit(cache=True, nogil=True)
def _mark(xbook, sf, pf, si, eq_out) -> None:
    """Equity mark: the position at the engine's mid (one side empty: last trade, else the last
    mid seen at marks and fills); a flat position needs no price."""
    g = si[SI_GRID_PTR]
    si[SI_GRID_PTR] = g + 1
    mid = book_mid(xbook[2], pf)
    if np.isfinite(mid):
        sf[SF_LAST_MID] = mid
    else:
        mid = sf[SF_LAST_TRADE]
        if not np.isfinite(mid):
            mid = sf[SF_LAST_MID]
    pos = sf[SF_POS]
    eq_out[g, EQ_POS] = pos
    eq_out[g, EQ_CASH] = sf[SF_CASH]
    eq_out[g, EQ_MID] = mid
    eq_out[g, EQ_EQUITY] = sf[SF_CASH] + (pos * mid if pos != 0.0 else 0.0)
    eq_out[g, EQ_FEES] = sf[SF_FEES]
    eq_out[g, EQ_FUNDING] = sf[SF_FUNDING]
