"""File naming of the tardis-dev client, input discovery and the lake layout."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from tardis_assets.lib.market.tardis import (
    TardisFile,
    TardisFileError,
    find_input,
    ingest_file,
    lake_path,
    lake_view_sql,
    parse_filename,
    tardis_filename,
)


def test_tardis_filename_follows_client_default() -> None:
    day = date(2024, 1, 1)
    assert (
        tardis_filename("binance-futures", "trades", day, "btcusdt")
        == "binance-futures_trades_2024-01-01_BTCUSDT.csv.gz"
    )
    assert tardis_filename("ftx", "quotes", day, "BTC/USD", gz=False) == (
        "ftx_quotes_2024-01-01_BTC-USD.csv"
    )
    assert tardis_filename("bitfinex-derivatives", "book_snapshot_25", day, "btcf0:ustf0") == (
        "bitfinex-derivatives_book_snapshot_25_2024-01-01_BTCF0-USTF0.csv.gz"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "deribit_incremental_book_L2_2020-04-01_BTC-PERPETUAL.csv.gz",
            ("deribit", "incremental_book_L2", date(2020, 4, 1), "BTC-PERPETUAL"),
        ),
        (
            "binance-futures_book_snapshot_25_2020-09-01_BTCUSDT.csv",
            ("binance-futures", "book_snapshot_25", date(2020, 9, 1), "BTCUSDT"),
        ),
        (
            "binance-futures_book_snapshot_5_2020-09-01_BTCUSDT.csv",
            ("binance-futures", "book_snapshot_5", date(2020, 9, 1), "BTCUSDT"),
        ),
        (
            "gate-io_trades_2024-01-01_BTC_USDT.csv.gz",
            ("gate-io", "trades", date(2024, 1, 1), "BTC_USDT"),
        ),
        (
            "deribit_options_chain_2020-06-08_OPTIONS.csv.gz",
            ("deribit", "options_chain", date(2020, 6, 8), "OPTIONS"),
        ),
    ],
)
def test_parse_filename(name: str, expected: tuple) -> None:
    parsed = parse_filename(Path("/x") / name)
    assert parsed == TardisFile(*expected, Path("/x") / name)
    assert tardis_filename(*expected, gz=name.endswith(".gz")) == name


@pytest.mark.parametrize(
    "name",
    [
        "bitmex_tradez_2020-03-01_XBTUSD.csv.gz",  # unknown data type
        "bitmex_trades_2020-13-01_XBTUSD.csv.gz",  # bad date
        "bitmex_trades_XBTUSD.csv.gz",
        "bitmex_trades_2020-03-01_XBTUSD.parquet",
    ],
)
def test_parse_filename_rejects(name: str) -> None:
    with pytest.raises(TardisFileError) as info:
        parse_filename(name)
    assert info.value.path == Path(name)


def test_find_input_prefers_gz(tmp_path: Path) -> None:
    day = date(2024, 1, 1)
    assert find_input(tmp_path, "binance-futures", "trades", day, "BTCUSDT") is None
    plain = tmp_path / "binance-futures_trades_2024-01-01_BTCUSDT.csv"
    plain.write_text("x")
    assert find_input(tmp_path, "binance-futures", "trades", day, "btcusdt") == plain
    gz = tmp_path / "binance-futures_trades_2024-01-01_BTCUSDT.csv.gz"
    gz.write_bytes(b"x")
    assert find_input(tmp_path, "binance-futures", "trades", day, "BTCUSDT") == gz
    assert find_input(tmp_path, "binance-futures", "quotes", day, "BTCUSDT") is None


def test_lake_path_is_hive_layout(tmp_path: Path) -> None:
    p = lake_path(tmp_path, "trades", "binance-futures", "BTCUSDT", date(2024, 1, 1))
    assert (
        p
        == tmp_path
        / "trades/exchange=binance-futures/symbol=BTCUSDT/date=2024-01-01/part-0.parquet"
    )


def test_lake_view_before_and_after_first_file(tardis_dir: Path, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db), config={"python_enable_replacements": False})
    try:
        con.sql(f"CREATE OR REPLACE VIEW raw_trades AS {lake_view_sql(lake, 'trades')}")
        assert con.sql("SELECT count(*) FROM raw_trades").fetchall() == [(0,)]
        empty_cols = con.sql("DESCRIBE raw_trades").fetchall()

        src = tardis_dir / "bitmex_trades_2020-03-01_XBTUSD.csv.gz"
        for sym in ("XBTUSD", "ETHUSD"):
            ingest_file(src, "trades", lake_path(lake, "trades", "bitmex", sym, date(2020, 3, 1)))
        con.sql(f"CREATE OR REPLACE VIEW raw_trades AS {lake_view_sql(lake, 'trades')}")
        cols = con.sql("DESCRIBE raw_trades").fetchall()
        assert [(c[0], c[1]) for c in cols] == [(c[0], c[1]) for c in empty_cols]
        assert [c[0] for c in cols] == [
            "exchange",
            "symbol",
            "timestamp",
            "local_timestamp",
            "id",
            "side",
            "price",
            "amount",
            "seq",  # arrival order within the file
            "date",
        ]
        rows = con.sql("SELECT date, count(*), sum(amount) FROM raw_trades GROUP BY ALL").fetchall()
        assert rows == [(date(2020, 3, 1), 20, 2 * 2161.0)]
        # the symbol column is the file's, not the folder name's
        assert con.sql("SELECT DISTINCT symbol FROM raw_trades").fetchall() == [("XBTUSD",)]
    finally:
        con.close()
