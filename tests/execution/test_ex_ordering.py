"""Event order: exchange time for the matching engine, arrival order for the strategy, ties in
arrival order, the same result whatever the chunking, and the tardis L2 book rules."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from ex_kit import BASE, MS, SEC, T0, cmd, l2, market, quotes, snapshot, trades
from hypothesis import given, settings
from hypothesis import strategies as st

from tardis_assets.lib.execution import lake_market, run_orders
from tardis_assets.lib.execution.book import (
    BS_BASE,
    BS_BEST_ASK,
    BS_BEST_BID,
    NO_GUARD,
    NONE,
    new_book,
    replay_events,
)
from tardis_assets.lib.execution.events import K_ASK, K_BID, flatten_chunk
from tardis_assets.lib.market.tardis import ingest_file, lake_path, rebuild_top_of_book

BOOK = snapshot(0, bids=[(99.9, 5.0)], asks=[(100.0, 1.0), (100.1, 2.0)])


def _reordered() -> pl.DataFrame:
    # arrival order: A (ts 2.000 s: 100.0 -> 0) then B (ts 1.990 s: 100.0 -> 3)
    return l2(
        [
            *BOOK,
            (2 * SEC, 10 * MS, False, "ask", 100.0, 0.0),
            (2 * SEC - 10 * MS, 22 * MS, False, "ask", 100.0, 3.0),
        ]
    )


@pytest.mark.parametrize("chunk_rows", [1, 2, 1000])
def test_matching_engine_sees_exchange_time_order(chunk_rows: int) -> None:
    # in exchange time B (3 lots) came first and A removed the level: a buy arriving at 2.05 s
    # finds 100.0 gone although the file's last word on it is "3 lots"
    data = market(incremental_book_L2=_reordered(), chunk_rows=chunk_rows)
    res = run_orders(data, [cmd(2 * SEC + 49 * MS, side="buy", qty=1.0)], BASE)
    assert res.fills.get_column("price").to_list() == [100.1]


def test_strategy_sees_arrival_order() -> None:
    data = market(incremental_book_L2=_reordered())
    res = run_orders(
        data,
        [
            cmd(2 * SEC + 11 * MS, side="buy", type="limit", tif="gtc", price=90.0, qty=1.0),
            cmd(2 * SEC + 13 * MS, side="buy", type="limit", tif="gtc", price=90.0, qty=1.0),
        ],
        BASE,
    )
    # after A arrived (2.010 s) the level is gone; after B (2.012 s) it is back with 3
    asks = res.orders.get_column("decision_ask").to_list()
    assert asks == [100.1, 100.0]
    info = res.orders.get_column("info_local_ts").dt.epoch("us").to_list()
    assert [v - T0 for v in info] == [2 * SEC + 10 * MS, 2 * SEC + 12 * MS]


def test_equal_timestamps_keep_arrival_order_within_a_stream() -> None:
    book = l2(
        [
            *BOOK,
            (2 * SEC, 1 * MS, False, "ask", 100.0, 5.0),
            (2 * SEC, 2 * MS, False, "ask", 100.0, 2.0),
        ]
    )
    res = run_orders(market(incremental_book_L2=book), [cmd(3 * SEC, side="buy", qty=4.0)], BASE)
    assert res.fills.get_column("qty").to_list() == [2.0, 2.0]  # 2 @ 100.0, then 100.1


def test_a_trade_is_applied_before_the_depth_update_it_caused() -> None:
    # a sell of 3 at our price and the level's 5 -> 2 carry the same exchange time: trade first,
    # so the queue ahead goes 5 -> 2 once (the other order would count the 3 lots twice)
    book = l2([*BOOK, (2 * SEC, 100, False, "bid", 99.9, 2.0)])
    tape = trades([(2 * SEC, 100, "sell", 99.9, 3.0)])
    res = run_orders(
        market(incremental_book_L2=book, trades=tape),
        [cmd(SEC, side="buy", type="limit", tif="gtc", price=99.9, qty=1.0)],
        BASE,
    )
    assert res.fills.height == 0


def _busy_day(seed: int = 3, n: int = 400) -> dict[str, pl.DataFrame]:
    """A small day whose exchange times are out of arrival order in every stream."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(SEC, 50 * SEC, n))
    lat = rng.integers(100, 30 * MS, n)
    rows = list(BOOK)
    mid = 1000
    for i in range(n):
        mid += int(rng.integers(-1, 2))
        side = "bid" if rng.random() < 0.5 else "ask"
        px = (
            (mid - int(rng.integers(0, 4))) / 10
            if side == "bid"
            else (mid + 1 + int(rng.integers(0, 4))) / 10
        )
        rows.append((int(t[i]), int(lat[i]), False, side, px, float(rng.integers(0, 4))))
    book = l2(rows).sort("local_timestamp", maintain_order=True)
    tt = np.sort(rng.integers(SEC, 50 * SEC, n // 4))
    tape = trades(
        [
            (
                int(x),
                int(rng.integers(100, 30 * MS)),
                "buy" if rng.random() < 0.5 else "sell",
                round(100.0 + rng.integers(-3, 4) / 10, 1),
                float(rng.integers(1, 3)),
            )
            for x in tt
        ]
    ).sort("local_timestamp", maintain_order=True)
    qt = np.sort(rng.integers(SEC, 50 * SEC, n // 4))
    q = quotes([(int(x), int(rng.integers(100, 30 * MS)), 99.9, 2.0, 100.0, 2.0) for x in qt]).sort(
        "local_timestamp", maintain_order=True
    )
    return {"incremental_book_L2": book, "trades": tape, "quotes": q}


def _orders() -> list:
    out = []
    for k in range(12):
        side = "buy" if k % 2 == 0 else "sell"
        out.append(cmd((3 + 4 * k) * SEC, side=side, qty=1.0))
        price = 99.9 if side == "buy" else 100.1
        out.append(cmd((4 + 4 * k) * SEC, side=side, type="limit", tif="gtc", price=price, qty=1.0))
    return out


def _signature(res) -> tuple:
    return (
        res.fills.select("time", "price", "qty", "liquidity").rows(),
        res.orders.select("status", "filled_qty", "decision_bid", "decision_ask").rows(),
        res.equity.get_column("equity").to_list(),
    )


@pytest.mark.parametrize("chunk_rows", [1, 3, 17, 100_000])
def test_results_do_not_depend_on_chunking(chunk_rows: int) -> None:
    frames = _busy_day()
    whole = run_orders(market(**frames, chunk_rows=1_000_000), _orders(), BASE)
    assert whole.fills.height > 5
    part = run_orders(market(**frames, chunk_rows=chunk_rows), _orders(), BASE)
    assert _signature(part) == _signature(whole)


@pytest.mark.parametrize("chunk_rows", [2, 50, 100_000])
def test_seq_column_restores_arrival_order(chunk_rows: int) -> None:
    frames = _busy_day(seed=5)
    plain = run_orders(market(**frames), _orders(), BASE)
    rng = np.random.default_rng(0)
    shuffled = {}
    for name, frame in frames.items():
        with_seq = frame.with_row_index("seq").with_columns(pl.col("seq").cast(pl.Int64))
        perm = np.argsort(
            np.arange(frame.height) + rng.integers(-5, 6, frame.height), kind="stable"
        )
        shuffled[name] = with_seq[perm]
    res = run_orders(market(**shuffled, chunk_rows=chunk_rows), _orders(), BASE)
    assert _signature(res) == _signature(plain)


def test_lake_files_replay_like_frames(tmp_path: Path) -> None:
    frames = _busy_day(seed=7)
    day = date(2024, 3, 1)
    lake = tmp_path / "lake"
    for name, frame in frames.items():
        csv = tmp_path / f"{name}.csv"
        frame.write_csv(csv)
        ingest_file(csv, name, lake_path(lake, name, "binance-futures", "BTCUSDT", day), day=day)
    data = lake_market(lake, "binance-futures", "BTCUSDT", day)
    cfg = dataclasses.replace(BASE, equity_seconds=60)
    from_lake = run_orders(data, _orders(), cfg)
    from_frames = run_orders(
        dataclasses.replace(market(**frames), end_us=data.end_us), _orders(), cfg
    )
    assert _signature(from_lake) == _signature(from_frames)
    assert from_lake.stats["rows"] == sum(f.height for f in frames.values())


def _book_tops(frame: pl.DataFrame) -> list[tuple[float, float]]:
    """Our book's best bid/ask after each row, replaying the rows one event at a time."""
    chunk = {
        "timestamp": frame.get_column("timestamp").to_numpy(),
        "local_timestamp": frame.get_column("local_timestamp").to_numpy(),
        "is_snapshot": frame.get_column("is_snapshot").to_numpy(),
        "is_bid": (frame.get_column("side") == "bid").to_numpy().astype(np.int8),
        "price": frame.get_column("price").to_numpy(),
        "amount": frame.get_column("amount").to_numpy(),
    }
    # one event per row index: replace times by a counter so each step applies one row
    _, _, kind, px, qty = flatten_chunk("incremental_book_L2", chunk, np.zeros(2, np.int64))
    q, g, bs = new_book(1 << 14)
    snaps = np.flatnonzero(chunk["is_snapshot"])
    if snaps.size == 0:
        return [(np.nan, np.nan)] * frame.height  # no base book: every row is skipped
    # rows before the first snapshot emit nothing; afterwards one level event per row
    row = snaps[0] + np.cumsum(np.isin(kind, (K_BID, K_ASK))) - 1
    tops: dict[int, tuple[float, float]] = {}
    steps = np.arange(kind.shape[0], dtype=np.int64)
    i = 0
    while i < kind.shape[0]:
        i, _, _ = replay_events(
            q, g, bs, steps, kind, px, qty, i, steps[i], False, 0.1, 10.0, -np.inf, np.inf, NO_GUARD
        )
        b, a = bs[BS_BEST_BID], bs[BS_BEST_ASK]
        bid = (bs[BS_BASE] + b) / 10.0 if b != NONE else np.nan
        ask = (bs[BS_BASE] + a) / 10.0 if a != NONE else np.nan
        tops[int(row[i - 1])] = (bid, ask)
    return [tops.get(r, (np.nan, np.nan)) for r in range(frame.height)]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.booleans(),
            st.sampled_from(["bid", "ask"]),
            st.integers(990, 1010),
            st.sampled_from([0.0, 1.0, 2.5]),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_book_follows_the_tardis_l2_rules(rows: list[tuple]) -> None:
    # compare with the project's reference top-of-book rebuild after every non-snapshot row
    # (a snapshot here replaces the book when the next update arrives, so snapshot rows
    # themselves are not compared)
    frame = l2([(k, 1, snap, side, p / 10, a) for k, (snap, side, p, a) in enumerate(rows)])
    ours = _book_tops(frame)
    ref = rebuild_top_of_book(frame)
    for k, (snap, _, _, _) in enumerate(rows):
        if snap:
            continue
        r = ref.row(k, named=True)
        if not r["book_ready"]:
            assert np.isnan(ours[k][0]) and np.isnan(ours[k][1])
            continue
        want = (
            np.nan if r["best_bid_price"] is None else r["best_bid_price"],
            np.nan if r["best_ask_price"] is None else r["best_ask_price"],
        )
        np.testing.assert_allclose(ours[k], want, rtol=0, atol=1e-9)


@pytest.mark.parametrize("with_seq", [False, True])
def test_a_range_of_parts_replays_as_one_day(with_seq: bool) -> None:
    # files split by arrival time (as tardis splits days), each with its own seq from 0
    frames = _busy_day(seed=9)
    whole = run_orders(market(**frames), _orders(), BASE)
    cut = T0 + 25 * SEC
    parts = {}
    for name, frame in frames.items():
        halves = [
            frame.filter(pl.col("local_timestamp") < cut),
            frame.filter(pl.col("local_timestamp") >= cut),
        ]
        if with_seq:
            halves = [
                h.with_row_index("seq").with_columns(pl.col("seq").cast(pl.Int64)) for h in halves
            ]
        parts[name] = tuple(halves)
    data = dataclasses.replace(market(chunk_rows=7), parts=parts)
    assert _signature(run_orders(data, _orders(), BASE)) == _signature(whole)


def test_seq_counts_on_across_parts(tmp_path: Path) -> None:
    # each day's file numbers its rows from 0; over a range, later files come after earlier ones
    from tardis_assets.lib.execution.sources import chunk_bounds, iter_chunks

    frames = _busy_day(seed=4)
    book = frames["incremental_book_L2"]
    halves = [book[:150], book[150:]]
    paths = []
    for k, h in enumerate(halves):
        path = tmp_path / f"part{k}.parquet"
        h.with_row_index("seq").with_columns(pl.col("seq").cast(pl.Int64)).write_parquet(
            path, row_group_size=40
        )
        paths.append(path)
    for parts in (tuple(paths), tuple(pl.read_parquet(p) for p in paths)):
        data = dataclasses.replace(market(chunk_rows=40), parts={"incremental_book_L2": parts})
        seq = np.concatenate([c["seq"] for c in iter_chunks(data, "incremental_book_L2")])
        assert seq.tolist() == list(range(book.height))
        bounds = chunk_bounds(data, "incremental_book_L2")
        assert bounds.has_seq
        starts = [*range(0, 150, 40), *range(150, book.height, 40)]
        assert bounds.min_seq.tolist() == starts
