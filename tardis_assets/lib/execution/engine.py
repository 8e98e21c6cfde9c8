"""Entry points: replay a day (or range) with the LLM strategy, or with scripted orders."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from tardis_assets.lib.backtest.params import LLMStrategyParams
from tardis_assets.lib.execution.config import ExecutionConfig
from tardis_assets.lib.execution.kernel import (
    C_FCOLS,
    C_ICOLS,
    C_OP,
    C_PRICE,
    C_QTY,
    C_REF,
    C_SIDE,
    C_TIF,
    C_TIME,
    C_TYPE,
    OP_CANCEL,
    OP_NEW,
)
from tardis_assets.lib.execution.orders import (
    BUY,
    ORDER_TYPES,
    OT_LIMIT,
    SELL,
    TIME_IN_FORCE,
)
from tardis_assets.lib.execution.outputs import ExecutionResult, result_of
from tardis_assets.lib.execution.plan import decision_plan
from tardis_assets.lib.execution.replay import StrategyInputs, replay
from tardis_assets.lib.execution.sources import MarketData
from tardis_assets.lib.execution.state import STRATEGY_LLM, STRATEGY_SCRIPT


def run_execution(
    data: MarketData,
    signals: pl.DataFrame,
    params: LLMStrategyParams,
    config: ExecutionConfig | None = None,
) -> ExecutionResult:
    """The LLM-signal strategy (bar-engine parameters) executed as orders on the ticks.

    ``params.fee_bps`` / ``slippage_bps`` are not used: fees come from the fee table and every
    fill's price from the book.
    """
    config = config or ExecutionConfig()
    if not isinstance(params, LLMStrategyParams):
        raise TypeError(f"params must be LLMStrategyParams, got {type(params).__name__}")
    plan = decision_plan(
        signals,
        params,
        start_us=data.start_us,
        end_us=data.end_us,
        window_us=config.window_seconds * 1_000_000,
        model_latency_us=None
        if config.model_latency_ms is None
        else round(config.model_latency_ms * 1_000),
        exchange=data.exchange,
        symbol=data.symbol,
    )
    strategy = StrategyInputs(
        kind=STRATEGY_LLM,
        plan=plan,
        position_size=params.position_size,
        stop_loss=params.stop_loss,
        take_profit=params.take_profit,
        holding_us=params.holding_bars * config.bar_seconds * 1_000_000,
    )
    return result_of(replay(data, strategy, config))


@dataclass(frozen=True)
class OrderCommand:
    """One scripted instruction at local time ``at_us``.

    ``action="new"``: an order (``type`` market/limit, ``tif`` gtc/ioc/post_only, ``price`` for
    limits, ``qty`` in base units). ``action="cancel"``: cancel the order created by command
    number ``cancels`` (its position in the list given to `run_orders`).
    """

    at_us: int
    action: str = "new"
    side: str = "buy"
    type: str = "market"
    tif: str = "ioc"
    price: float | None = None
    qty: float = 0.0
    cancels: int = -1


def _commands(commands: Sequence[OrderCommand]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Command arrays in time order, and each given command's position in that order."""
    n = len(commands)
    ci = np.zeros((n, C_ICOLS), np.int64)
    cf = np.full((n, C_FCOLS), np.nan)
    order = sorted(range(n), key=lambda k: commands[k].at_us)
    position = {old: new for new, old in enumerate(order)}
    for new, old in enumerate(order):
        c = commands[old]
        where = f"command {old}"
        if isinstance(c.at_us, bool) or not isinstance(c.at_us, (int, np.integer)):
            raise ValueError(f"{where}: at_us must be an integer µs timestamp, got {c.at_us!r}")
        ci[new, C_TIME] = c.at_us
        if c.action == "cancel":
            if not 0 <= c.cancels < n or commands[c.cancels].action != "new":
                raise ValueError(f"{where}: cancels must name a 'new' command, got {c.cancels}")
            if commands[c.cancels].at_us > c.at_us:
                raise ValueError(f"{where}: cancels command {c.cancels}, which comes later")
            ci[new, C_OP] = OP_CANCEL
            ci[new, C_REF] = position[c.cancels]
            continue
        if c.action != "new":
            raise ValueError(f"{where}: action must be 'new' or 'cancel', got {c.action!r}")
        if c.side not in ("buy", "sell"):
            raise ValueError(f"{where}: side must be 'buy' or 'sell', got {c.side!r}")
        if c.type not in ORDER_TYPES:
            raise ValueError(f"{where}: type must be one of {ORDER_TYPES}, got {c.type!r}")
        if c.tif not in TIME_IN_FORCE:
            raise ValueError(f"{where}: tif must be one of {TIME_IN_FORCE}, got {c.tif!r}")
        if not (isinstance(c.qty, (int, float)) and math.isfinite(c.qty) and c.qty > 0):
            raise ValueError(f"{where}: qty must be a positive number of base units, got {c.qty}")
        otype = ORDER_TYPES.index(c.type)
        if otype == OT_LIMIT:
            if c.price is None or not math.isfinite(c.price) or c.price <= 0:
                raise ValueError(f"{where}: a limit order needs a positive price, got {c.price}")
        elif c.tif == "post_only":
            raise ValueError(f"{where}: a market order cannot be post-only")
        ci[new, C_OP] = OP_NEW
        ci[new, C_SIDE] = BUY if c.side == "buy" else SELL
        ci[new, C_TYPE] = otype
        ci[new, C_TIF] = TIME_IN_FORCE.index(c.tif)
        cf[new, C_PRICE] = np.nan if c.price is None else float(c.price)
        cf[new, C_QTY] = float(c.qty)
    return ci, cf, np.array([position[k] for k in range(n)], dtype=np.int64)


def run_orders(
    data: MarketData, commands: Sequence[OrderCommand], config: ExecutionConfig | None = None
) -> ExecutionResult:
    """Replay ``data`` with scripted orders (tests, cross-checks, execution studies).

    ``result.run.command_orders[k]`` is the order id created by ``commands[k]`` (-1 for cancels).
    """
    config = config or ExecutionConfig()
    ci, cf, position = _commands(list(commands))
    run = replay(data, StrategyInputs(kind=STRATEGY_SCRIPT, commands_i=ci, commands_f=cf), config)
    run.command_orders = run.command_orders[position] if position.size else run.command_orders
    return result_of(run)
