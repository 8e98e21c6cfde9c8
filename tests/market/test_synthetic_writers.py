"""Synthetic days as tardis files: named like the tardis-dev client, ingested without complaint."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tardis_assets.lib.market.synthetic import (
    SYNTHETIC_TYPES,
    SyntheticMarket,
    record_batches,
    write_csv,
    write_day_csv,
)
from tardis_assets.lib.market.tardis import column_names, ingest_file, tardis_filename
from tardis_assets.lib.market.tardis.arrow_csv import arrow_schema

DAY = date(2025, 3, 1)
EXCHANGE, SYMBOL = "binance-futures", "BTC/USDT:USDT"  # a symbol the client renames in files
MARKET = SyntheticMarket(
    trades_per_day=3_000, book_updates_per_day=6_000, daily_vol=0.004, snapshot_interval_ms=1_000
)


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    return {t: MARKET.frame(t, EXCHANGE, SYMBOL, DAY) for t in SYNTHETIC_TYPES}


@pytest.mark.parametrize("gz", [False, True], ids=["csv", "csv.gz"])
def test_every_type_round_trips_through_the_ingest(
    tmp_path: Path, frames: dict[str, pl.DataFrame], gz: bool
) -> None:
    files = write_day_csv(MARKET, EXCHANGE, SYMBOL, DAY, tmp_path / "inputs", gz=gz, max_rows=4_000)
    assert set(files) == set(SYNTHETIC_TYPES)
    for data_type, written in files.items():
        assert written.path.name == tardis_filename(EXCHANGE, data_type, DAY, SYMBOL, gz=gz)
        opener = gzip.open if gz else open
        with opener(written.path, "rt") as fh:
            assert fh.readline().rstrip("\n") == ",".join(column_names(data_type))
        dest = tmp_path / "lake" / f"{data_type}.parquet"
        result = ingest_file(written.path, data_type, dest, day=DAY)  # validates every row
        assert result.rows == written.rows == frames[data_type].height
        lake = pl.read_parquet(dest).select(column_names(data_type))
        assert lake.equals(frames[data_type]), data_type
        assert lake["local_timestamp"].is_sorted()  # arrival order survives the file
    assert sorted(p.name for p in (tmp_path / "inputs").iterdir()) == sorted(
        f.path.name for f in files.values()
    )  # no partial files left behind


def test_write_csv_writes_one_type(tmp_path: Path, frames: dict[str, pl.DataFrame]) -> None:
    path = write_csv(MARKET, "derivative_ticker", EXCHANGE, SYMBOL, DAY, tmp_path, gz=False)
    assert path == tmp_path / tardis_filename(EXCHANGE, "derivative_ticker", DAY, SYMBOL, gz=False)
    back = pl.read_csv(path, schema=dict(frames["derivative_ticker"].schema))
    assert back.equals(frames["derivative_ticker"])
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not make"):
        write_csv(MARKET, "options_chain", EXCHANGE, SYMBOL, DAY, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_record_batches_carry_the_reader_schema(frames: dict[str, pl.DataFrame]) -> None:
    for data_type in ("trades", "book_snapshot_25"):
        reader = record_batches(MARKET, data_type, EXCHANGE, SYMBOL, DAY, max_rows=2_500)
        assert reader.schema == arrow_schema(data_type)
        table = reader.read_all()
        assert table.schema == arrow_schema(data_type)
        assert pl.from_arrow(table).equals(frames[data_type]), data_type
