"""Hand-built books and orders with answers worked out by hand (see each test's comment)."""

from __future__ import annotations

import dataclasses
import math

import pytest
from ex_kit import BASE, MS, SEC, cmd, l2, market, quotes, snapshot, trades, us

from tardis_assets.lib.execution import run_orders

BOOK = snapshot(
    0,
    bids=[(99.9, 5.0), (99.8, 3.0)],
    asks=[(100.0, 1.0), (100.1, 2.0), (100.2, 3.0), (100.3, 10.0)],
)


def _cfg(**kw):
    return dataclasses.replace(BASE, **kw)


def test_market_order_walks_three_levels() -> None:
    # buy 4: 1 @ 100.0, 2 @ 100.1, 1 @ 100.2 -> average 100.1, three levels, taker fee 5 bps
    res = run_orders(
        market(incremental_book_L2=l2(BOOK)),
        [cmd(1 * SEC, side="buy", type="market", tif="ioc", qty=4.0)],
        _cfg(taker_fee_bps=5.0),
    )
    fills = res.fills
    assert fills.get_column("price").to_list() == [100.0, 100.1, 100.2]
    assert fills.get_column("qty").to_list() == [1.0, 2.0, 1.0]
    assert fills.get_column("level").to_list() == [0, 1, 2]
    assert set(fills.get_column("liquidity").to_list()) == {"taker"}
    assert us(fills.get_column("time")) == [SEC + MS] * 3  # decision + 1 ms entry latency
    assert us(fills.get_column("known_at")) == [SEC + 2 * MS] * 3  # + 1 ms response latency
    order = res.orders.row(0, named=True)
    assert order["status"] == "filled"
    assert order["levels"] == 3
    assert order["avg_price"] == pytest.approx(100.1)
    assert order["arrival_ask"] == 100.0
    assert order["fee"] == pytest.approx(0.0005 * 400.4)
    last = fills.row(-1, named=True)
    assert last["position_after"] == 4.0
    assert last["cash_after"] == pytest.approx(BASE.capital - 400.4 - 0.0005 * 400.4)
    # the spread and the depth walked are costs against the mid (99.95), not fees
    assert res.pnl["spread_impact"] == pytest.approx(400.4 - 4 * 99.95)
    assert res.pnl["fees"] == pytest.approx(0.2002)


def test_market_sell_walks_bids() -> None:
    res = run_orders(
        market(incremental_book_L2=l2(BOOK)),
        [cmd(SEC, side="sell", type="market", tif="ioc", qty=6.0)],
        BASE,
    )
    assert res.fills.get_column("price").to_list() == [99.9, 99.8]
    assert res.fills.get_column("qty").to_list() == [5.0, 1.0]
    assert res.fills.row(-1, named=True)["position_after"] == -6.0


def test_exhausted_depth_expires_the_rest() -> None:
    # 16 visible on the ask side: a 20 lot market buy takes all 16, 4 expire
    res = run_orders(
        market(incremental_book_L2=l2(BOOK)),
        [cmd(SEC, side="buy", type="market", tif="ioc", qty=20.0)],
        BASE,
    )
    order = res.orders.row(0, named=True)
    assert order["status"] == "expired"
    assert order["filled_qty"] == 16.0
    assert order["levels"] == 4
    assert res.fills.get_column("qty").sum() == 16.0


def test_walk_is_capped_by_max_walk_levels() -> None:
    res = run_orders(
        market(incremental_book_L2=l2(BOOK)),
        [cmd(SEC, side="buy", type="market", tif="ioc", qty=20.0)],
        _cfg(max_walk_levels=2),
    )
    assert res.orders.row(0, named=True)["filled_qty"] == 3.0  # 1 + 2 from the first two levels


def test_quotes_only_book_fills_the_top_size_only() -> None:
    q = quotes([(0, 100, 99.9, 5.0, 100.0, 1.5)])
    res = run_orders(
        market(quotes=q),
        [cmd(SEC, side="buy", type="market", tif="ioc", qty=4.0)],
        BASE,
    )
    assert res.stats["depth_source"] == "quotes"
    assert res.fills.get_column("qty").to_list() == [1.5]
    assert res.orders.row(0, named=True)["status"] == "expired"


def test_consumed_liquidity_stays_taken_until_the_feed_restates_the_level() -> None:
    # two buys of 1 right after each other: the first empties 100.0, the second takes 100.1;
    # after the feed restates 100.0 (t = 5 s) a third buy takes it again
    book = l2([*BOOK, (5 * SEC, 100, False, "ask", 100.0, 1.0)])
    cmds = [
        cmd(SEC, side="buy", qty=1.0),
        cmd(SEC + 10 * MS, side="buy", qty=1.0),
        cmd(6 * SEC, side="buy", qty=1.0),
    ]
    res = run_orders(market(incremental_book_L2=book), cmds, BASE)
    assert res.fills.get_column("price").to_list() == [100.0, 100.1, 100.0]
    # without consumption the replayed market is untouched (hftbacktest's assumption)
    res2 = run_orders(market(incremental_book_L2=book), cmds, _cfg(consume_liquidity=False))
    assert res2.fills.get_column("price").to_list() == [100.0, 100.0, 100.0]


def _queue_case():
    # our buy 2 @ 99.9 joins behind 5; sells at 99.9: 3 (front 2), 3 (fills 1), 2 (fills 1)
    book = l2(
        [*BOOK, (2 * SEC, 100, False, "bid", 99.9, 2.0), (3 * SEC, 100, False, "bid", 99.9, 0.0)]
    )
    tape = trades(
        [
            (2 * SEC, 50, "sell", 99.9, 3.0),
            (3 * SEC, 50, "sell", 99.9, 3.0),
            (4 * SEC, 50, "sell", 99.9, 2.0),
        ]
    )
    order = cmd(SEC, side="buy", type="limit", tif="gtc", price=99.9, qty=2.0)
    return market(incremental_book_L2=book, trades=tape), order


def test_limit_order_fills_after_the_queue_ahead_is_traded_through() -> None:
    data, order_cmd = _queue_case()
    res = run_orders(data, [order_cmd], _cfg(maker_fee_bps=-1.0, equity_seconds=1))
    fills = res.fills
    assert us(fills.get_column("time")) == [3 * SEC, 4 * SEC]
    assert fills.get_column("qty").to_list() == [1.0, 1.0]
    assert fills.get_column("price").to_list() == [99.9, 99.9]
    assert set(fills.get_column("liquidity").to_list()) == {"maker"}
    order = res.orders.row(0, named=True)
    assert order["queue_ahead"] == 5.0
    assert order["status"] == "filled"
    assert us(res.orders.get_column("done_at")) == [4 * SEC]


def test_partial_fill_moves_position_and_cash_at_once() -> None:
    data, order_cmd = _queue_case()
    res = run_orders(data, [order_cmd], _cfg(maker_fee_bps=-1.0, equity_seconds=1))
    first = res.fills.row(0, named=True)
    rebate = 0.0001 * 99.9
    assert first["position_after"] == 1.0
    assert first["cash_after"] == pytest.approx(BASE.capital - 99.9 + rebate)
    assert first["fee"] == pytest.approx(-rebate)  # negative maker fee: a rebate
    # the equity mark between the two fills (t = 3 s .. 4 s) holds the partial position
    eq = res.equity.filter(
        (res.equity.get_column("time").dt.epoch("us") - data.start_us) == 3 * SEC
    ).row(0, named=True)
    assert eq["position"] == 1.0
    assert eq["cash"] == pytest.approx(BASE.capital - 99.9 + rebate)


def test_order_latency_decides_which_price_it_meets() -> None:
    # the ask at 100.0 disappears at exchange time 1.005 s; a buy decided at 1.000 s meets it
    # with 1 ms entry latency and meets 100.5 with 10 ms
    book = l2(
        [
            *BOOK[:2],
            (0, 100, True, "ask", 100.0, 1.0),
            (SEC + 5 * MS, 100, False, "ask", 100.0, 0.0),
            (SEC + 5 * MS, 100, False, "ask", 100.5, 2.0),
        ]
    )
    order = [cmd(SEC, side="buy", qty=0.5)]
    fast = run_orders(market(incremental_book_L2=book), order, _cfg(entry_latency_ms=1.0))
    slow = run_orders(market(incremental_book_L2=book), order, _cfg(entry_latency_ms=10.0))
    assert fast.fills.get_column("price").to_list() == [100.0]
    assert slow.fills.get_column("price").to_list() == [100.5]
    assert us(slow.fills.get_column("time")) == [SEC + 10 * MS]
    # both decided on the same local view
    assert fast.orders.row(0, named=True)["decision_ask"] == 100.0
    assert slow.orders.row(0, named=True)["decision_ask"] == 100.0
    assert slow.orders.row(0, named=True)["arrival_ask"] == 100.5


def test_post_only_is_rejected_when_it_would_cross() -> None:
    cmds = [
        cmd(SEC, side="buy", type="limit", tif="post_only", price=100.0, qty=1.0),
        cmd(SEC, side="buy", type="limit", tif="post_only", price=99.9, qty=1.0),
        cmd(SEC, side="sell", type="limit", tif="post_only", price=99.9, qty=1.0),
    ]
    res = run_orders(market(incremental_book_L2=l2(BOOK)), cmds, BASE)
    ids = res.run.command_orders
    orders = res.orders
    status = dict(zip(orders.get_column("order_id"), orders.get_column("status"), strict=True))
    assert [status[i] for i in ids] == ["rejected", "open", "rejected"]
    assert res.fills.height == 0


def test_ioc_limit_takes_up_to_its_price_and_expires_the_rest() -> None:
    cmds = [
        cmd(SEC, side="buy", type="limit", tif="ioc", price=100.1, qty=5.0),
        cmd(2 * SEC, side="buy", type="limit", tif="ioc", price=99.0, qty=1.0),
    ]
    res = run_orders(market(incremental_book_L2=l2(BOOK)), cmds, _cfg(consume_liquidity=False))
    first, second = (res.orders.row(int(i), named=True) for i in res.run.command_orders)
    assert first["filled_qty"] == 3.0 and first["status"] == "expired"
    assert second["filled_qty"] == 0.0 and second["status"] == "expired"


def test_marketable_gtc_limit_rests_its_remainder() -> None:
    # takes 1 @ 100.0, the other 1 rests at 100.0 (now the best bid) behind nothing
    order_cmd = cmd(SEC, side="buy", type="limit", tif="gtc", price=100.0, qty=2.0)
    res = run_orders(market(incremental_book_L2=l2(BOOK)), [order_cmd], BASE)
    order = res.orders.row(0, named=True)
    assert order["filled_qty"] == 1.0 and order["status"] == "open"
    assert order["queue_ahead"] == 0.0


def test_cancel_removes_a_resting_order_but_not_one_already_filled() -> None:
    book = l2([*BOOK, (2 * SEC, 100, False, "ask", 99.95, 1.0)])  # ask drops onto our 99.95 bid
    cmds = [
        cmd(SEC, side="buy", type="limit", tif="gtc", price=99.8, qty=1.0),
        cmd(SEC, side="buy", type="limit", tif="gtc", price=99.95, qty=1.0),
        cmd(3 * SEC, action="cancel", cancels=0),
        cmd(3 * SEC, action="cancel", cancels=1),
    ]
    res = run_orders(market(incremental_book_L2=book), cmds, BASE)
    a, b = (res.orders.row(int(i), named=True) for i in res.run.command_orders[:2])
    assert a["status"] == "canceled"
    assert us(res.orders.get_column("done_at"))[a["order_id"]] == 3 * SEC + MS
    assert b["status"] == "filled"  # the cancel came too late: the fill stands
    assert res.fills.get_column("price").to_list() == [99.95]
    assert us(res.fills.get_column("time")) == [2 * SEC]


def test_trade_through_fills_the_whole_resting_order() -> None:
    tape = trades([(2 * SEC, 50, "sell", 99.8, 0.1)])  # a sell printed below our bid
    order_cmd = cmd(SEC, side="buy", type="limit", tif="gtc", price=99.9, qty=2.0)
    res = run_orders(market(incremental_book_L2=l2(BOOK), trades=tape), [order_cmd], BASE)
    assert res.fills.get_column("qty").to_list() == [2.0]
    assert res.fills.get_column("price").to_list() == [99.9]
    assert res.fills.row(0, named=True)["liquidity"] == "maker"


def test_resting_sell_fills_when_the_bid_reaches_it() -> None:
    book = l2([*BOOK, (2 * SEC, 100, False, "bid", 100.05, 4.0)])
    order_cmd = cmd(SEC, side="sell", type="limit", tif="gtc", price=100.05, qty=1.0)
    res = run_orders(market(incremental_book_L2=book), [order_cmd], BASE)
    assert res.fills.get_column("price").to_list() == [100.05]
    assert us(res.fills.get_column("time")) == [2 * SEC]


def _prob_front(n: float, front: float, back: float, change: float, log: bool = False) -> float:
    f = (lambda x: math.log1p(x)) if log else (lambda x: x**n)
    p = f(back) / (f(back) + f(front))
    return front - (1 - p) * change + min(back - p * change, 0.0)


@pytest.mark.parametrize("model", ["risk_averse", "power", "log"])
def test_queue_models_differ_only_in_what_cancellations_do(model: str) -> None:
    # we join behind 5; 4 join behind us (9); 3 cancel (6); then 4 trade at our price
    book = l2(
        [*BOOK, (2 * SEC, 100, False, "bid", 99.9, 9.0), (3 * SEC, 100, False, "bid", 99.9, 6.0)]
    )
    tape = trades([(4 * SEC, 50, "sell", 99.9, 4.0)])
    order_cmd = cmd(SEC, side="buy", type="limit", tif="gtc", price=99.9, qty=1.0)
    res = run_orders(
        market(incremental_book_L2=book, trades=tape), [order_cmd], _cfg(queue_model=model)
    )
    if model == "risk_averse":
        front = 5.0  # cancellations are assumed behind us
    else:
        front = min(_prob_front(2.0, 5.0, 4.0, 3.0, log=model == "log"), 6.0)
    expected = max(4.0 - front, 0.0)
    filled = float(res.fills.get_column("qty").sum())
    assert filled == pytest.approx(min(expected, 1.0))
    if model == "risk_averse":
        assert filled == 0.0
    else:
        assert 0.0 < filled < 1.0  # a partial fill the conservative model would not give
