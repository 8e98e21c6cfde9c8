"""L2 book rebuild: the real deribit excerpt, then hand-written updates for every rule."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tardis_assets.lib.market.tardis import read_file
from tardis_assets.lib.market.tardis.book import BOOK_COLUMNS, rebuild_top_of_book

HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"


def _best(frame: pl.DataFrame) -> list[tuple]:
    return list(
        zip(
            frame["best_bid_price"].to_list(),
            frame["best_bid_amount"].to_list(),
            frame["best_ask_price"].to_list(),
            frame["best_ask_amount"].to_list(),
            strict=True,
        )
    )


def test_deribit_snapshot_rows(tardis_dir: Path) -> None:
    updates = read_file(
        tardis_dir / "deribit_incremental_book_L2_2020-04-01_BTC-PERPETUAL.csv.gz",
        "incremental_book_L2",
    )
    out = rebuild_top_of_book(updates)
    assert out.columns == list(BOOK_COLUMNS)
    assert out.height == 15
    # The excerpt is the opening snapshot: 15 ask levels from 6421.5 upwards, no bids. The first
    # row is already the lowest ask, so after every row the best ask stays 6421.5 x 18640.
    assert _best(out) == [(None, None, 6421.5, 18640.0)] * 15
    assert out["book_ready"].all()
    assert out["local_timestamp"].to_list() == updates["local_timestamp"].to_list()
    # one exchange message (one local_timestamp) -> one row per message
    assert _best(rebuild_top_of_book(updates, per_message=True)) == [(None, None, 6421.5, 18640.0)]


def _frame(tmp_path: Path, rows: list[str]) -> pl.DataFrame:
    p = tmp_path / "deribit_incremental_book_L2_2020-04-01_BTC-PERPETUAL.csv"
    p.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    return read_file(p, "incremental_book_L2")


def test_updates_removals_and_snapshot_reset(tmp_path: Path) -> None:
    base = "deribit,BTC-PERPETUAL"
    rows = [
        f"{base},1585699199000000,1585699199000000,false,bid,6400,5",  # before first snapshot
        f"{base},1585699200000000,1585699200100000,true,ask,6421.5,100",
        f"{base},1585699200000000,1585699200100000,true,ask,6422,50",
        f"{base},1585699200000000,1585699200100000,true,bid,6421,70",
        f"{base},1585699200000000,1585699200100000,true,bid,6420.5,30",
        f"{base},1585699201000000,1585699201100000,false,ask,6421.5,80",  # resize best ask
        f"{base},1585699202000000,1585699202100000,false,bid,6421,0",  # remove best bid
        f"{base},1585699203000000,1585699203100000,false,ask,6421.5,0",  # remove best ask
        f"{base},1585699204000000,1585699204100000,false,bid,6421.5,10",  # new best bid
        f"{base},1585699205000000,1585699205100000,false,ask,6430,0",  # remove unknown level
        f"{base},1585699206000000,1585699206100000,true,ask,6500,1",  # new snapshot: reset
        f"{base},1585699206000000,1585699206100000,true,bid,6499,2",
        f"{base},1585699207000000,1585699207100000,false,bid,6499.5,3",
    ]
    out = rebuild_top_of_book(_frame(tmp_path, rows))
    assert out["book_ready"].to_list() == [False] + [True] * 12
    assert _best(out) == [
        (None, None, None, None),  # skipped: no snapshot yet
        (None, None, 6421.5, 100.0),
        (None, None, 6421.5, 100.0),
        (6421.0, 70.0, 6421.5, 100.0),
        (6421.0, 70.0, 6421.5, 100.0),
        (6421.0, 70.0, 6421.5, 80.0),
        (6420.5, 30.0, 6421.5, 80.0),
        (6420.5, 30.0, 6422.0, 50.0),
        (6421.5, 10.0, 6422.0, 50.0),
        (6421.5, 10.0, 6422.0, 50.0),
        (None, None, 6500.0, 1.0),  # the old book is gone
        (6499.0, 2.0, 6500.0, 1.0),
        (6499.5, 3.0, 6500.0, 1.0),
    ]
    per_msg = rebuild_top_of_book(_frame(tmp_path, rows), per_message=True)
    assert per_msg.height == 9  # 13 rows, two messages of 4 and 2 rows
    assert _best(per_msg)[1] == (6421.0, 70.0, 6421.5, 100.0)


def test_instruments_are_independent(tmp_path: Path) -> None:
    rows = [
        "deribit,BTC-PERPETUAL,1585699200000000,1585699200100000,true,ask,6421.5,100",
        "deribit,ETH-PERPETUAL,1585699200000000,1585699200100000,true,ask,130.5,7",
        "deribit,BTC-PERPETUAL,1585699201000000,1585699201100000,false,ask,6421,1",
        "deribit,ETH-PERPETUAL,1585699201000000,1585699201100000,false,bid,130,9",
    ]
    out = rebuild_top_of_book(_frame(tmp_path, rows))
    assert out["symbol"].to_list() == ["BTC-PERPETUAL", "ETH-PERPETUAL"] * 2
    assert _best(out) == [
        (None, None, 6421.5, 100.0),
        (None, None, 130.5, 7.0),
        (None, None, 6421.0, 1.0),
        (130.0, 9.0, 130.5, 7.0),
    ]
