"""Every real tardis.dev excerpt loads with exact counts, dtypes and values, as .csv and .csv.gz."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tardis_assets.lib.market.tardis import (
    DATA_TYPES,
    column_names,
    ingest_file,
    lake_path,
    parse_filename,
    polars_schema,
    read_file,
)
from tardis_assets.lib.market.tardis.inflate import InflateLimits
from tardis_assets.lib.market.tardis.schemas import lake_schema

ROWS = {
    "bitmex_trades_2020-03-01_XBTUSD": 10,
    "huobi-dm-swap_quotes_2020-05-01_BTC-USD": 10,
    "deribit_incremental_book_L2_2020-04-01_BTC-PERPETUAL": 15,
    "binance-futures_book_snapshot_5_2020-09-01_BTCUSDT": 10,
    "binance-futures_book_snapshot_25_2020-09-01_BTCUSDT": 10,
    # the fixture README says 1, the file holds 2 data rows (and no final newline)
    "bitmex_derivative_ticker_2020-03-01_XBTUSD": 2,
    "deribit_options_chain_2020-06-08_OPTIONS": 7,
}


def test_fixtures_cover_every_type_but_liquidations() -> None:
    covered = {parse_filename(name + ".csv").data_type for name in ROWS}
    assert covered == set(DATA_TYPES) - {"liquidations"}


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
@pytest.mark.parametrize("stem", sorted(ROWS))
def test_fixture_loads_exactly(tardis_dir: Path, stem: str, suffix: str) -> None:
    path = tardis_dir / (stem + suffix)
    meta = parse_filename(path)
    frame = read_file(path, meta.data_type, day=meta.day)
    assert frame.height == ROWS[stem]
    assert frame.schema == polars_schema(meta.data_type)
    assert frame.columns == column_names(meta.data_type)
    # µs timestamps on the partition day
    assert frame["local_timestamp"].cast(pl.Datetime("us", "UTC")).dt.date().unique().to_list() == [
        meta.day
    ]


def test_trades_values(tardis_dir: Path) -> None:
    f = read_file(tardis_dir / "bitmex_trades_2020-03-01_XBTUSD.csv.gz", "trades")
    first = f.row(0, named=True)
    assert first == {
        "exchange": "bitmex",
        "symbol": "XBTUSD",
        "timestamp": 1583020803145000,
        "local_timestamp": 1583020803307160,
        "id": "ccc3c1fa-212c-e8b0-1706-9b9c4f3d5ecf",
        "side": "sell",
        "price": 8531.5,
        "amount": 2152.0,
    }
    assert f["amount"].sum() == 2152 + 9
    assert f["id"].n_unique() == 10


def test_quotes_column_order_and_values(tardis_dir: Path) -> None:
    f = read_file(tardis_dir / "huobi-dm-swap_quotes_2020-05-01_BTC-USD.csv", "quotes")
    assert f.columns[4:] == ["ask_amount", "ask_price", "bid_price", "bid_amount"]
    last = f.row(-1, named=True)
    assert (last["ask_amount"], last["ask_price"], last["bid_price"], last["bid_amount"]) == (
        5411.0,
        8629.3,
        8629.2,
        847.0,
    )


def test_book_snapshot_levels(tardis_dir: Path) -> None:
    f5 = read_file(
        tardis_dir / "binance-futures_book_snapshot_5_2020-09-01_BTCUSDT.csv", "book_snapshot_5"
    )
    assert f5.columns[4:8] == ["asks[0].price", "asks[0].amount", "bids[0].price", "bids[0].amount"]
    assert f5.row(0, named=True)["asks[0].price"] == 11657.08
    assert f5.row(0, named=True)["bids[4].amount"] == 0.111
    f25 = read_file(
        tardis_dir / "binance-futures_book_snapshot_25_2020-09-01_BTCUSDT.csv", "book_snapshot_25"
    )
    assert f25.width == 4 + 25 * 4
    assert f25.columns[-1] == "bids[24].amount"
    # asks ascend, bids descend in every snapshot
    assert (f25["asks[0].price"] < f25["asks[24].price"]).all()
    assert (f25["bids[0].price"] > f25["bids[24].price"]).all()


def test_incremental_l2_flags(tardis_dir: Path) -> None:
    f = read_file(
        tardis_dir / "deribit_incremental_book_L2_2020-04-01_BTC-PERPETUAL.csv",
        "incremental_book_L2",
    )
    assert f["is_snapshot"].dtype == pl.Boolean
    assert f["is_snapshot"].all()
    assert f["side"].unique().to_list() == ["ask"]
    assert f["price"].to_list()[:3] == [6421.5, 6422.0, 6422.5]


def test_derivative_ticker_values(tardis_dir: Path) -> None:
    f = read_file(
        tardis_dir / "bitmex_derivative_ticker_2020-03-01_XBTUSD.csv", "derivative_ticker"
    )
    assert f["funding_timestamp"].dtype == pl.Int64
    assert f["funding_rate"].to_list() == [0.0001, 0.00015]
    assert f["open_interest"].to_list() == [1000000.0, 1000500.0]
    assert f.row(1, named=True)["mark_price"] == 9500.75


def test_options_chain_empty_cells_are_null(tardis_dir: Path) -> None:
    f = read_file(tardis_dir / "deribit_options_chain_2020-06-08_OPTIONS.csv", "options_chain")
    row = f.row(3, named=True)  # BTC-10JUN20-10000-C has no bid/ask/greeks
    assert row["symbol"] == "BTC-10JUN20-10000-C"
    assert row["bid_price"] is None and row["ask_amount"] is None and row["rho"] is None
    assert row["expiration"] == 1591776000000000
    assert row["underlying_index"] == "SYN.BTC-10JUN20"
    assert f["delta"].min() == pytest.approx(-0.61767)
    # the exchange timestamp of the first row is on the previous day: only local_timestamp counts
    assert f["timestamp"].cast(pl.Datetime("us", "UTC")).dt.date()[0] == date(2020, 6, 7)


def test_empty_trade_id_is_null(tmp_path: Path) -> None:
    p = tmp_path / "binance_trades_2021-01-01_BTCUSDT.csv"
    p.write_text(
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
        "binance,BTCUSDT,1609459200000000,1609459200100000,,unknown,29000.5,0.1\n"
    )
    f = read_file(p, "trades", day=date(2021, 1, 1))
    assert f["id"].to_list() == [None]
    assert f["side"].to_list() == ["unknown"]


def test_liquidations_schema(tmp_path: Path) -> None:
    p = tmp_path / "bitmex_liquidations_2021-01-01_XBTUSD.csv"
    p.write_text(
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
        "bitmex,XBTUSD,1609459260000000,1609459260100000,abc-1,buy,29000.5,1200\n"
    )
    f = read_file(p, "liquidations", day=date(2021, 1, 1))
    assert f.schema == polars_schema("liquidations")
    assert f["amount"].to_list() == [1200.0]


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_ingest_round_trip_equals_read_file(tardis_dir: Path, tmp_path: Path, suffix: str) -> None:
    lake = tmp_path / "lake"
    for stem in ROWS:
        src = tardis_dir / (stem + suffix)
        meta = parse_filename(src)
        dest = lake_path(lake, meta.data_type, meta.exchange, meta.symbol, meta.day)
        result = ingest_file(src, meta.data_type, dest, day=meta.day)
        assert result.dest == dest and dest.is_file()
        assert result.rows == ROWS[stem]
        assert result.bytes == dest.stat().st_size
        lake_frame = pl.read_parquet(dest)
        expected = read_file(src, meta.data_type, with_seq=True)
        assert lake_frame.equals(expected, null_equal=True)
        # seq is each row's position in the file: the arrival order tardis wrote
        assert lake_frame["seq"].to_list() == list(range(result.rows))
        assert result.min_timestamp == expected["timestamp"].min()
        assert result.max_timestamp == expected["timestamp"].max()
        # zstd-compressed, as the design asks
        con = duckdb.connect(config={"python_enable_replacements": False})
        try:
            codecs = con.sql(
                "SELECT DISTINCT compression FROM parquet_metadata($p)", params={"p": str(dest)}
            ).fetchall()
        finally:
            con.close()
        assert codecs == [("ZSTD",)]


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_fast_and_precise_readers_agree(tardis_dir: Path, tmp_path: Path, suffix: str) -> None:
    """The Arrow fast path and DuckDB's reader produce the same Parquet content."""
    from tardis_assets.lib.market.tardis import ingest as ing
    from tardis_assets.lib.market.tardis.duck import ingest_connection
    from tardis_assets.lib.market.tardis.header import is_gzip

    for stem in ROWS:
        src = tardis_dir / (stem + suffix)
        data_type = parse_filename(src).data_type
        fast, precise = tmp_path / f"{stem}.fast.parquet", tmp_path / f"{stem}.precise.parquet"
        with ingest_connection() as con:
            limits = InflateLimits()
            assert ing._copy_fast(src, data_type, fast, is_gzip(src), None, limits)
            ing._copy_precise(con, src, data_type, precise, is_gzip(src))
        a, b = pl.read_parquet(fast), pl.read_parquet(precise)
        assert a.schema == b.schema == lake_schema(data_type)
        assert a.equals(b, null_equal=True), stem


def test_clean_files_take_the_fast_path(
    tardis_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tardis_assets.lib.market.tardis import ingest as ing

    def refuse(*args: object) -> None:
        raise AssertionError("the precise reader should only run for files that are not clean")

    monkeypatch.setattr(ing, "_copy_precise", refuse)
    for stem in ROWS:
        for suffix in (".csv", ".csv.gz"):
            src = tardis_dir / (stem + suffix)
            meta = parse_filename(src)
            res = ingest_file(
                src, meta.data_type, tmp_path / f"{stem}{suffix}.parquet", day=meta.day
            )
            assert res.rows == ROWS[stem]


def test_gzip_without_isal_uses_zlib(
    tardis_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ISA-L is optional: without it the fast path inflates with zlib and gives the same rows."""
    import sys

    from tardis_assets.lib.market.tardis import ingest as ing

    def refuse(*args: object) -> None:
        raise AssertionError("the fast path should have handled this clean file")

    monkeypatch.setitem(sys.modules, "isal", None)  # makes `from isal import igzip` fail
    monkeypatch.setattr(ing, "_copy_precise", refuse)
    src = tardis_dir / "bitmex_trades_2020-03-01_XBTUSD.csv.gz"
    res = ingest_file(src, "trades", tmp_path / "t.parquet")
    assert pl.read_parquet(res.dest).equals(
        read_file(tardis_dir / "bitmex_trades_2020-03-01_XBTUSD.csv", "trades", with_seq=True)
    )
