"""Driver of one replay: picks the streams, feeds the kernel block by block, grows its tables.

Memory stays bounded whatever the day's size: each stream holds about one chunk (a Parquet row
group) of events, the next chunk is read on a background thread while the numba kernel (which
releases the GIL) replays the current one, and output tables grow only with our own orders,
fills and equity marks.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from tardis_assets.lib.execution.book import BS_DROPPED, BS_RECENTRED, new_book, roi_slots
from tardis_assets.lib.execution.config import ExecutionConfig
from tardis_assets.lib.execution.fees import FeeRates, load_fees
from tardis_assets.lib.execution.funding import FundingSchedule, funding_schedule
from tardis_assets.lib.execution.kernel import C_FCOLS, C_ICOLS, run_block
from tardis_assets.lib.execution.ordering import INF, EventBuffer, StreamQueue, merge_streams
from tardis_assets.lib.execution.orders import Table, fill_table, order_table
from tardis_assets.lib.execution.plan import DecisionPlan, empty_plan
from tardis_assets.lib.execution.queue import QUEUE_MODEL_CODES
from tardis_assets.lib.execution.sources import (
    FUNDING_TYPE,
    MarketData,
    chunk_bounds,
    iter_chunks,
    read_whole,
    sample_amounts,
    sample_prices,
)
from tardis_assets.lib.execution.state import (
    EQ_COLS,
    FU_COLS,
    K_GROW,
    MAX_RESTING,
    PF_CAPITAL,
    PF_COUNT,
    PF_INV,
    PF_LOT,
    PF_MAKER,
    PF_QPOW,
    PF_SIZE,
    PF_STOP,
    PF_TAKER,
    PF_TICK,
    PF_TP,
    PI_CHECK_US,
    PI_CONSUME,
    PI_COUNT,
    PI_END,
    PI_ENTRY_LAT,
    PI_FUSE,
    PI_HOLD_US,
    PI_MAX_LEVELS,
    PI_QUEUE,
    PI_RESP_LAT,
    PI_START,
    PI_STRATEGY,
    PI_STYLE,
    PI_TIMEOUT_US,
    RQ_COLS,
    RS_COLS,
    SF_CASH,
    SF_KCASH,
    SI_EXCH_POS,
    SI_LOCAL_POS,
    SI_N_FILLS,
    SI_N_ORDERS,
    STYLE_MARKET,
    STYLE_PASSIVE,
    new_state,
)
from tardis_assets.lib.execution.ticks import PriceGrid, infer_grid, infer_lot

DEPTH_PREFERENCE = ("incremental_book_L2", "book_snapshot_25", "book_snapshot_5")
STREAM_RANK = {"trades": 0, "depth": 1, "quotes": 2}


@dataclass(frozen=True)
class StrategyInputs:
    """What drives the orders: a decision plan (LLM strategy) or scripted commands."""

    kind: int
    plan: DecisionPlan = field(default_factory=empty_plan)
    commands_i: np.ndarray = field(default_factory=lambda: np.zeros((0, C_ICOLS), np.int64))
    commands_f: np.ndarray = field(default_factory=lambda: np.zeros((0, C_FCOLS)))
    position_size: float = 1.0
    stop_loss: float = 0.0
    take_profit: float = 0.0
    holding_us: int = 0


@dataclass
class RawRun:
    """Everything a replay produced, as arrays (turned into frames by `outputs`)."""

    data: MarketData
    config: ExecutionConfig
    fees: FeeRates
    grid: PriceGrid
    lot: float
    depth_source: str
    local_source: str
    orders: Table
    n_orders: int
    fills: Table
    n_fills: int
    grid_time: np.ndarray
    equity: np.ndarray
    funding: FundingSchedule
    funding_out: np.ndarray
    plan: DecisionPlan
    ref_mid: np.ndarray
    command_orders: np.ndarray
    rows: dict[str, int]
    events: int
    local_events: int
    seconds: float
    final_cash: float
    final_known_cash: float
    book_dropped: int
    book_recentred: int


def choose_sources(data: MarketData, config: ExecutionConfig) -> tuple[str, str]:
    """(depth source, local-view source) for the data at hand (see ExecutionConfig.depth)."""
    if config.depth == "auto":
        depth = next((t for t in DEPTH_PREFERENCE if data.has(t)), "quotes")
    else:
        depth = config.depth
    if not data.has(depth):
        if config.depth == "auto":
            raise ValueError(
                f"{data.exchange} {data.symbol}: no book data (need quotes or one of "
                f"{', '.join(DEPTH_PREFERENCE)}); have {sorted(data.parts)}"
            )
        raise ValueError(f"depth source {depth!r} requested but no {depth} data is present")
    local = "quotes" if data.has("quotes") else depth
    return depth, local


def _fee_rates(data: MarketData, config: ExecutionConfig) -> FeeRates:
    table = load_fees(config.fees_path).lookup(data.exchange, data.symbol)
    maker = table.maker if config.maker_fee_bps is None else config.maker_fee_bps / 1e4
    taker = table.taker if config.taker_fee_bps is None else config.taker_fee_bps / 1e4
    return FeeRates(maker=maker, taker=taker, source=table.source)


def _grid_times(data: MarketData, interval_us: int) -> np.ndarray:
    n = -(-(data.end_us - data.start_us) // interval_us)
    times = data.start_us + interval_us * np.arange(1, n + 1, dtype=np.int64)
    times[-1] = min(times[-1], data.end_us)
    return times


def _exchange_types(data: MarketData, depth: str, fuse: bool) -> list[tuple[int, str]]:
    """(rank, type) of the streams the matching engine replays, in tie-break order."""
    out: list[tuple[int, str]] = []
    if data.has("trades"):
        out.append((STREAM_RANK["trades"], "trades"))
    if depth != "quotes":
        out.append((STREAM_RANK["depth"], depth))
    if data.has("quotes") and (depth == "quotes" or fuse):
        out.append((STREAM_RANK["quotes"], "quotes"))
    return sorted(out)


def _parameters(
    data: MarketData,
    strategy: StrategyInputs,
    config: ExecutionConfig,
    grid: PriceGrid,
    lot: float,
    fees: FeeRates,
    fuse: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's int and float parameter registers (layout in `state`)."""
    pi = np.zeros(PI_COUNT, np.int64)
    pf = np.zeros(PF_COUNT, np.float64)
    pi[PI_ENTRY_LAT] = config.entry_latency_us
    pi[PI_RESP_LAT] = config.response_latency_us
    pi[PI_QUEUE] = QUEUE_MODEL_CODES[config.queue_model]
    pi[PI_STYLE] = STYLE_MARKET if config.style == "market" else STYLE_PASSIVE
    pi[PI_HOLD_US] = strategy.holding_us
    pi[PI_CHECK_US] = max(1, round(config.check_interval_ms * 1_000))
    pi[PI_TIMEOUT_US] = round(config.passive_timeout_s * 1_000_000)
    pi[PI_CONSUME] = int(config.consume_liquidity)
    pi[PI_FUSE] = int(fuse)
    pi[PI_MAX_LEVELS] = config.max_walk_levels
    pi[PI_STRATEGY] = strategy.kind
    pi[PI_START] = data.start_us
    pi[PI_END] = data.end_us
    pf[PF_TICK] = grid.tick
    pf[PF_INV] = grid.inverse
    pf[PF_LOT] = lot
    pf[PF_MAKER] = fees.maker
    pf[PF_TAKER] = fees.taker
    pf[PF_SIZE] = strategy.position_size
    pf[PF_STOP] = strategy.stop_loss
    pf[PF_TP] = strategy.take_profit
    pf[PF_CAPITAL] = config.capital
    pf[PF_QPOW] = config.queue_power
    return pi, pf


def _grid_and_lot(data: MarketData, config: ExecutionConfig, depth: str) -> tuple:
    """Price grid (given or inferred from the book's prices) and lot (given or inferred)."""
    prices = sample_prices(data, depth)
    if prices.size == 0 and data.has("trades"):
        prices = sample_prices(data, "trades")
    if prices.size == 0:
        raise ValueError(f"{data.exchange} {data.symbol}: the book data holds no prices")
    grid = PriceGrid.of(config.tick_size) if config.tick_size else infer_grid(prices)
    lot = config.lot_size or infer_lot(
        sample_amounts(data, "trades") if data.has("trades") else sample_amounts(data, depth)
    )
    return grid, lot, float(np.median(prices))


def replay(data: MarketData, strategy: StrategyInputs, config: ExecutionConfig) -> RawRun:
    """Replay ``data`` with ``strategy`` under ``config`` (see the package docs for the model)."""
    t_start = time.perf_counter()
    depth, local = choose_sources(data, config)
    grid, lot, typical_price = _grid_and_lot(data, config, depth)
    fees = _fee_rates(data, config)
    fuse = depth != "quotes" and config.fuse_quotes
    exchange_types = _exchange_types(data, depth, fuse)
    wanted = sorted({t for _, t in exchange_types} | {local})

    slots = roi_slots(typical_price, grid.tick)
    xbook = new_book(slots)
    lbook = new_book(slots)
    si, sf = new_state()
    sf[SF_CASH] = config.capital
    sf[SF_KCASH] = config.capital
    pi, pf = _parameters(data, strategy, config, grid, lot, fees, fuse)

    orders = order_table(max(64, 4 * len(strategy.plan) + 2 * strategy.commands_i.shape[0]))
    fills = fill_table(8192)
    req = np.zeros((4096, RQ_COLS), np.int64)
    resp = np.zeros((8192, RS_COLS), np.int64)
    rest = np.full(MAX_RESTING, -1, np.int64)
    plan = strategy.plan
    ref_mid = np.full(plan.ref_time.shape[0], np.nan)
    plan_arrays = (plan.time, plan.action, plan.ref, plan.ref_time, ref_mid)
    cmd_oid = np.full(strategy.commands_i.shape[0], -1, np.int64)
    script = (strategy.commands_i, strategy.commands_f, cmd_oid)
    schedule = funding_schedule(read_whole(data, FUNDING_TYPE), data.start_us, data.end_us)
    fund_out = np.zeros((len(schedule), FU_COLS))
    funding = (schedule.time, schedule.rate, schedule.mark, fund_out)
    grid_time = _grid_times(data, config.equity_interval_us)
    eq_out = np.full((grid_time.shape[0], EQ_COLS), np.nan)
    grid_arrays = (grid_time, eq_out)

    final = data.end_us + 1
    events = 0
    local_events = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-read") as pool:
        queues: dict[str, StreamQueue] = {}
        for data_type in wanted:
            bounds = chunk_bounds(data, data_type)
            queues[data_type] = StreamQueue(
                data_type,
                bounds,
                (lambda dt=data_type: iter_chunks(data, dt)),
                pool,
                local=data_type == local,
                exchange=data_type in {t for _, t in exchange_types},
            )
        exch_queues = [queues[t] for _, t in exchange_types]
        merged = EventBuffer()
        local_queue = queues[local]
        while True:
            x_mark = min((q.exchange_watermark() for q in exch_queues), default=INF)
            horizon = min(x_mark, local_queue.local_watermark(), final)
            block = merge_streams([q.release_exchange(horizon) for q in exch_queues], merged)
            lblock = local_queue.release_local(horizon)
            events += int(block[0].shape[0])
            local_events += int(lblock[0].shape[0])
            si[SI_EXCH_POS] = 0
            si[SI_LOCAL_POS] = 0
            while True:
                ctx = (orders.i, orders.f, fills.i, fills.f, si, sf, pi, pf, resp, rest)
                status = run_block(
                    *block,
                    *lblock,
                    horizon,
                    xbook,
                    lbook,
                    ctx,
                    req,
                    plan_arrays,
                    script,
                    funding,
                    grid_arrays,
                )
                if status != K_GROW:
                    break
                orders, fills, req, resp = _grow(orders, fills, req, resp)
            if horizon >= final:
                break
            # the horizon is some stream's watermark: read on in the stream(s) holding it back
            binding = [
                q
                for q in queues.values()
                if (q.exchange and q.exchange_watermark() <= horizon)
                or (q.local and q.local_watermark() <= horizon)
            ]
            for q in binding:
                q.load()
        rows = {t: q.rows for t, q in queues.items()}
    return RawRun(
        data=data,
        config=config,
        fees=fees,
        grid=grid,
        lot=lot,
        depth_source=depth,
        local_source=local,
        orders=orders,
        n_orders=int(si[SI_N_ORDERS]),
        fills=fills,
        n_fills=int(si[SI_N_FILLS]),
        grid_time=grid_time,
        equity=eq_out,
        funding=schedule,
        funding_out=fund_out,
        plan=plan,
        ref_mid=ref_mid,
        command_orders=cmd_oid,
        rows=rows,
        events=events,
        local_events=local_events,
        seconds=time.perf_counter() - t_start,
        final_cash=float(sf[SF_CASH]),
        final_known_cash=float(sf[SF_KCASH]),
        book_dropped=int(xbook[2][BS_DROPPED] + lbook[2][BS_DROPPED]),
        book_recentred=int(xbook[2][BS_RECENTRED] + lbook[2][BS_RECENTRED]),
    )


def _grow(orders: Table, fills: Table, req: np.ndarray, resp: np.ndarray):
    orders.grow()
    fills.grow()
    req = np.concatenate([req, np.zeros_like(req)])
    resp = np.concatenate([resp, np.zeros_like(resp)])
    return orders, fills, req, resp
