"""The tables a replay produces (one column definition each), its metrics and its PnL breakdown.

``execution_orders``, ``execution_fills`` and ``execution_equity`` are built from the kernel's
arrays with the schemas below, which are the only definition of those columns (the warehouse
tables take them as they are).

Metrics are the bar engine's (`lib/backtest/metrics.compute_metrics`) on the equity marks: per
interval net returns, and as "position" the held size valued at one fixed reference price (the
first mid) over the capital, so turnover, exposure and trade counts change only when fills
change the position, not when the price moves.

PnL decomposition, in quote currency, exact by construction (``pnl = alpha - spread_impact -
fees - funding``):

* ``spread_impact`` = sum over fills of side * (fill price - exchange mid just before the fill)
  * qty: the half spread and the depth walked, i.e. what the fills cost against the mid;
* ``fees`` (negative for net rebates) and ``funding`` paid;
* ``alpha`` = what the position earned marked at mids (fills at mid, no costs): the signal's
  edge net of the delay between signal and fill.
* ``implementation_shortfall`` against the mid at the end of the signal's window (the paper
  trade a zero-latency strategy would have made): fill price minus that mid, plus fees;
  ``model_delay`` is its part due to the LLM's latency (decision mid - window-end mid) and
  ``order_delay`` the part from decision to fill (mid at fill - decision mid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from tardis_assets.lib.backtest.metrics import METRIC_NAMES, compute_metrics
from tardis_assets.lib.execution.orders import (
    FF_CASH,
    FF_FEE,
    FF_MID,
    FF_POS,
    FF_PRICE,
    FF_QTY,
    FI_KNOWN,
    FI_LEVEL,
    FI_MAKER,
    FI_ORDER,
    FI_SIDE,
    FI_TS,
    OF_ARR_ASK,
    OF_ARR_BID,
    OF_DEC_ASK,
    OF_DEC_BID,
    OF_DEC_MID,
    OF_FEE,
    OF_FILLED,
    OF_FRONT0,
    OF_NOTIONAL,
    OF_PRICE,
    OF_QTY,
    OF_REF_MID,
    OI_ARRIVED,
    OI_ATTEMPT,
    OI_DECIDED,
    OI_DECISION,
    OI_DONE,
    OI_INFO_LTS,
    OI_INFO_TS,
    OI_KNOWN,
    OI_LEVELS,
    OI_NFILLS,
    OI_REASON,
    OI_SIDE,
    OI_STATUS,
    OI_TIF,
    OI_TYPE,
    ORDER_TYPES,
    OT_LIMIT,
    REASONS,
    STATUSES,
    TIME_IN_FORCE,
)
from tardis_assets.lib.execution.replay import RawRun
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
)

TS = pl.Datetime("us", "UTC")

ORDERS_SCHEMA: dict[str, pl.DataType] = {
    "order_id": pl.Int64(),
    "decided_at": TS,
    "arrived_at": TS,
    "done_at": TS,
    "known_done_at": TS,
    "side": pl.String(),
    "type": pl.String(),
    "time_in_force": pl.String(),
    "price": pl.Float64(),
    "qty": pl.Float64(),
    "filled_qty": pl.Float64(),
    "avg_price": pl.Float64(),
    "status": pl.String(),
    "reason": pl.String(),
    "attempt": pl.Int64(),
    "levels": pl.Int64(),
    "n_fills": pl.Int64(),
    "fee": pl.Float64(),
    "decision_bid": pl.Float64(),
    "decision_ask": pl.Float64(),
    "decision_mid": pl.Float64(),
    "arrival_bid": pl.Float64(),
    "arrival_ask": pl.Float64(),
    "queue_ahead": pl.Float64(),
    "window_end_mid": pl.Float64(),
    "signal_available_at": TS,
    "model_latency_us": pl.Int64(),
    "entry_latency_us": pl.Int64(),
    "response_latency_us": pl.Int64(),
    "info_local_ts": TS,
    "info_exchange_ts": TS,
    "feed_latency_us": pl.Int64(),
}

FILLS_SCHEMA: dict[str, pl.DataType] = {
    "fill_id": pl.Int64(),
    "order_id": pl.Int64(),
    "time": TS,
    "known_at": TS,
    "side": pl.String(),
    "price": pl.Float64(),
    "qty": pl.Float64(),
    "liquidity": pl.String(),
    "fee": pl.Float64(),
    "level": pl.Int64(),
    "mid": pl.Float64(),
    "position_after": pl.Float64(),
    "cash_after": pl.Float64(),
    "decided_at": TS,
    "decision_to_fill_us": pl.Int64(),
    "model_latency_us": pl.Int64(),
    "entry_latency_us": pl.Int64(),
    "response_latency_us": pl.Int64(),
    "feed_latency_us": pl.Int64(),
}

EQUITY_SCHEMA: dict[str, pl.DataType] = {
    "time": TS,
    "position": pl.Float64(),
    "cash": pl.Float64(),
    "mid": pl.Float64(),
    "equity": pl.Float64(),
    "fees_paid": pl.Float64(),
    "funding_paid": pl.Float64(),
    "net_return": pl.Float64(),
}

FUNDING_SCHEMA: dict[str, pl.DataType] = {
    "time": TS,
    "rate": pl.Float64(),
    "mark_price": pl.Float64(),
    "position": pl.Float64(),
    "payment": pl.Float64(),
}

PNL_NAMES = (
    "pnl",
    "alpha",
    "spread_impact",
    "fees",
    "funding",
    "implementation_shortfall",
    "model_delay",
    "order_delay",
)

US_PER_YEAR = 365.0 * 86_400.0 * 1e6


def _int_null(values: np.ndarray, valid: np.ndarray) -> pl.Series:
    """Int64 column with nulls where ``valid`` is false."""
    s = pl.Series(np.asarray(values, dtype=np.int64))
    return pl.select(pl.when(pl.Series(np.asarray(valid, dtype=bool))).then(s)).to_series()


def _ts(values: np.ndarray) -> pl.Series:
    """µs integers (-1 = not happened) -> UTC datetimes with nulls."""
    v = np.asarray(values, dtype=np.int64)
    return _int_null(v, v >= 0).cast(TS)


def _nan_null(values: np.ndarray) -> pl.Series:
    return pl.Series(values, dtype=pl.Float64).fill_nan(None)


def orders_frame(run: RawRun) -> pl.DataFrame:
    n = run.n_orders
    oi = run.orders.i[:n]
    of = run.orders.f[:n]
    plan = run.plan
    dec = oi[:, OI_DECISION]
    has_dec = dec >= 0
    safe = np.where(has_dec, dec, 0)
    avail = np.where(has_dec, plan.available_at[safe] if len(plan) else -1, -1)
    model_lat = np.where(has_dec, plan.model_latency_us[safe] if len(plan) else 0, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = np.where(of[:, OF_FILLED] > 0, of[:, OF_NOTIONAL] / of[:, OF_FILLED], np.nan)
    info_ok = oi[:, OI_INFO_LTS] >= 0
    cols = {
        "order_id": pl.Series(np.arange(n), dtype=pl.Int64),
        "decided_at": _ts(oi[:, OI_DECIDED]),
        "arrived_at": _ts(oi[:, OI_ARRIVED]),
        "done_at": _ts(oi[:, OI_DONE]),
        "known_done_at": _ts(oi[:, OI_KNOWN]),
        "side": pl.Series(np.where(oi[:, OI_SIDE] > 0, "buy", "sell"), dtype=pl.String),
        "type": pl.Series([ORDER_TYPES[t] for t in oi[:, OI_TYPE]], dtype=pl.String),
        "time_in_force": pl.Series([TIME_IN_FORCE[t] for t in oi[:, OI_TIF]], dtype=pl.String),
        "price": _nan_null(np.where(oi[:, OI_TYPE] == OT_LIMIT, of[:, OF_PRICE], np.nan)),
        "qty": of[:, OF_QTY],
        "filled_qty": of[:, OF_FILLED],
        "avg_price": _nan_null(avg),
        "status": pl.Series([STATUSES[s] for s in oi[:, OI_STATUS]], dtype=pl.String),
        "reason": pl.Series([REASONS[r] for r in oi[:, OI_REASON]], dtype=pl.String),
        "attempt": oi[:, OI_ATTEMPT],
        "levels": oi[:, OI_LEVELS],
        "n_fills": oi[:, OI_NFILLS],
        "fee": of[:, OF_FEE],
        "decision_bid": _nan_null(of[:, OF_DEC_BID]),
        "decision_ask": _nan_null(of[:, OF_DEC_ASK]),
        "decision_mid": _nan_null(of[:, OF_DEC_MID]),
        "arrival_bid": _nan_null(of[:, OF_ARR_BID]),
        "arrival_ask": _nan_null(of[:, OF_ARR_ASK]),
        "queue_ahead": _nan_null(of[:, OF_FRONT0]),
        "window_end_mid": _nan_null(of[:, OF_REF_MID]),
        "signal_available_at": _ts(avail),
        "model_latency_us": _int_null(model_lat, has_dec),
        "entry_latency_us": np.full(n, run.config.entry_latency_us, dtype=np.int64),
        "response_latency_us": np.full(n, run.config.response_latency_us, dtype=np.int64),
        "info_local_ts": _ts(oi[:, OI_INFO_LTS]),
        "info_exchange_ts": _ts(oi[:, OI_INFO_TS]),
        "feed_latency_us": _int_null(oi[:, OI_INFO_LTS] - oi[:, OI_INFO_TS], info_ok),
    }
    return pl.DataFrame(cols, schema=ORDERS_SCHEMA)


def fills_frame(run: RawRun) -> pl.DataFrame:
    n = run.n_fills
    fi = run.fills.i[:n]
    ff = run.fills.f[:n]
    oid = fi[:, FI_ORDER]
    oi = run.orders.i
    plan = run.plan
    dec = oi[oid, OI_DECISION] if n else np.zeros(0, np.int64)
    has_dec = dec >= 0
    model_lat = (
        np.where(has_dec, plan.model_latency_us[np.where(has_dec, dec, 0)], 0)
        if len(plan)
        else np.zeros(n, np.int64)
    )
    info_lts = oi[oid, OI_INFO_LTS] if n else np.zeros(0, np.int64)
    info_ts = oi[oid, OI_INFO_TS] if n else np.zeros(0, np.int64)
    decided = oi[oid, OI_DECIDED] if n else np.zeros(0, np.int64)
    cols = {
        "fill_id": pl.Series(np.arange(n), dtype=pl.Int64),
        "order_id": oid,
        "time": _ts(fi[:, FI_TS]),
        "known_at": _ts(fi[:, FI_KNOWN]),
        "side": pl.Series(np.where(fi[:, FI_SIDE] > 0, "buy", "sell"), dtype=pl.String),
        "price": ff[:, FF_PRICE],
        "qty": ff[:, FF_QTY],
        "liquidity": pl.Series(np.where(fi[:, FI_MAKER] == 1, "maker", "taker"), dtype=pl.String),
        "fee": ff[:, FF_FEE],
        "level": fi[:, FI_LEVEL],
        "mid": _nan_null(ff[:, FF_MID]),
        "position_after": ff[:, FF_POS],
        "cash_after": ff[:, FF_CASH],
        "decided_at": _ts(decided),
        "decision_to_fill_us": fi[:, FI_TS] - decided,
        "model_latency_us": _int_null(model_lat, has_dec),
        "entry_latency_us": np.full(n, run.config.entry_latency_us, dtype=np.int64),
        "response_latency_us": np.full(n, run.config.response_latency_us, dtype=np.int64),
        "feed_latency_us": _int_null(info_lts - info_ts, info_lts >= 0),
    }
    return pl.DataFrame(cols, schema=FILLS_SCHEMA)


def equity_frame(run: RawRun) -> pl.DataFrame:
    eq = run.equity
    equity = eq[:, EQ_EQUITY]
    prev = np.concatenate([[run.config.capital], equity[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        ret = equity / prev - 1.0
    return pl.DataFrame(
        {
            "time": _ts(run.grid_time),
            "position": eq[:, EQ_POS],
            "cash": eq[:, EQ_CASH],
            "mid": _nan_null(eq[:, EQ_MID]),
            "equity": equity,
            "fees_paid": eq[:, EQ_FEES],
            "funding_paid": eq[:, EQ_FUNDING],
            "net_return": ret,
        },
        schema=EQUITY_SCHEMA,
    )


def funding_frame(run: RawRun) -> pl.DataFrame:
    fo = run.funding_out
    return pl.DataFrame(
        {
            "time": _ts(run.funding.time),
            "rate": run.funding.rate,
            "mark_price": _nan_null(fo[:, FU_MARK]),
            "position": fo[:, FU_POS],
            "payment": fo[:, FU_PAYMENT],
        },
        schema=FUNDING_SCHEMA,
    )


def execution_metrics(run: RawRun) -> dict[str, float]:
    """The bar engine's metrics on the equity marks (see the module docstring)."""
    eq = run.equity
    equity = eq[:, EQ_EQUITY]
    if equity.size == 0 or not np.all(np.isfinite(equity)):
        bad = int(np.argmin(np.isfinite(equity))) if equity.size else 0
        raise ValueError(f"equity is not finite at mark {bad}: no price to value the position")
    prev = np.concatenate([[run.config.capital], equity[:-1]])
    ret = equity / prev - 1.0
    mids = eq[:, EQ_MID]
    finite = mids[np.isfinite(mids)]
    ref = float(finite[0]) if finite.size else 0.0
    positions = eq[:, EQ_POS] * ref / run.config.capital
    interval = float(run.config.equity_interval_us)
    return compute_metrics(ret, positions, US_PER_YEAR / interval)


def pnl_breakdown(run: RawRun) -> dict[str, float]:
    """PnL and its parts in quote currency (definitions in the module docstring)."""
    n = run.n_fills
    ff = run.fills.f[:n]
    fi = run.fills.i[:n]
    side = fi[:, FI_SIDE].astype(np.float64)
    qty = ff[:, FF_QTY]
    price = ff[:, FF_PRICE]
    mid = np.where(np.isfinite(ff[:, FF_MID]), ff[:, FF_MID], price)
    of = run.orders.f
    oid = fi[:, FI_ORDER]
    dec_mid = of[oid, OF_DEC_MID] if n else np.zeros(0)
    ref_mid = of[oid, OF_REF_MID] if n else np.zeros(0)
    has_ref = np.isfinite(ref_mid) & np.isfinite(dec_mid)
    equity = run.equity[:, EQ_EQUITY]
    pnl = float(equity[-1] - run.config.capital) if equity.size else 0.0
    fees = float(ff[:, FF_FEE].sum())
    funding = float(run.funding_out[:, FU_PAYMENT].sum())
    spread = float(np.sum(side * (price - mid) * qty))
    fee_ref = float(ff[has_ref, FF_FEE].sum())
    return {
        "pnl": pnl,
        "alpha": pnl + spread + fees + funding,
        "spread_impact": spread,
        "fees": fees,
        "funding": funding,
        "implementation_shortfall": float(
            np.sum((side * (price - ref_mid) * qty)[has_ref]) + fee_ref
        ),
        "model_delay": float(np.sum((side * (dec_mid - ref_mid) * qty)[has_ref])),
        "order_delay": float(np.sum((side * (mid - dec_mid) * qty)[has_ref])),
    }


def passive_fill_rate(orders: pl.DataFrame) -> float:
    """Filled share of the quantity sent as post-only limit orders (NaN: none sent)."""
    passive = orders.filter(pl.col("time_in_force") == "post_only")
    total = float(passive.get_column("qty").sum()) if passive.height else 0.0
    if total <= 0:
        return float("nan")
    return float(passive.get_column("filled_qty").sum()) / total


@dataclass
class ExecutionResult:
    """A finished replay: tables, metrics, PnL breakdown and run statistics."""

    orders: pl.DataFrame
    fills: pl.DataFrame
    equity: pl.DataFrame
    funding: pl.DataFrame
    metrics: dict[str, float]
    pnl: dict[str, float]
    stats: dict[str, float | int | str]
    run: RawRun

    @property
    def n_fills(self) -> int:
        return self.fills.height


def result_of(run: RawRun) -> ExecutionResult:
    orders = orders_frame(run)
    fills = fills_frame(run)
    metrics = execution_metrics(run)
    metrics = {k: float(metrics[k]) for k in METRIC_NAMES}
    pnl = pnl_breakdown(run)
    maker_qty = float(fills.filter(pl.col("liquidity") == "maker").get_column("qty").sum())
    total_qty = float(fills.get_column("qty").sum()) if fills.height else 0.0
    stats: dict[str, float | int | str] = {
        "events": run.events,
        "local_events": run.local_events,
        "rows": int(sum(run.rows.values())),
        "seconds": run.seconds,
        "events_per_second": sum(run.rows.values()) / run.seconds if run.seconds > 0 else 0.0,
        "depth_source": run.depth_source,
        "local_source": run.local_source,
        "tick_size": run.grid.tick,
        "lot_size": run.lot,
        "maker_fee_bps": run.fees.maker * 1e4,
        "taker_fee_bps": run.fees.taker * 1e4,
        "n_orders": orders.height,
        "n_fills": fills.height,
        "n_decisions": len(run.plan),
        "passive_fill_rate": passive_fill_rate(orders),
        "maker_share": maker_qty / total_qty if total_qty > 0 else float("nan"),
        "book_levels_dropped": run.book_dropped,
        "book_recentred": run.book_recentred,
        **{f"rows_{k}": v for k, v in run.rows.items()},
    }
    return ExecutionResult(
        orders=orders,
        fills=fills,
        equity=equity_frame(run),
        funding=funding_frame(run),
        metrics=metrics,
        pnl=pnl,
        stats=stats,
        run=run,
    )
