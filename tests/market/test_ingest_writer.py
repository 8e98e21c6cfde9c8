"""The lake writer: re-runs give the same bytes, the Arrow form of each rule agrees with its SQL
form, the footer keeps what readers use, and generated rows that break a rule are named."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tardis_assets.lib.days import day_bounds_us
from tardis_assets.lib.market.synthetic import SyntheticMarket, record_batches, write_day_csv
from tardis_assets.lib.market.tardis import (
    DATA_TYPES,
    TardisFileError,
    ingest_batches,
    ingest_file,
    write_parquet,
)
from tardis_assets.lib.market.tardis.arrow_csv import arrow_schema
from tardis_assets.lib.market.tardis.arrow_rules import breaks, first_bad_row
from tardis_assets.lib.market.tardis.parquet_out import ROW_GROUP_ROWS
from tardis_assets.lib.market.tardis.schemas import Kind, columns, lake_schema
from tardis_assets.lib.market.tardis.validate import Check, Fault, checks_for

DAY = date(2025, 3, 1)
EXCHANGE, SYMBOL = "binance-futures", "BTCUSDT"
MARKET = SyntheticMarket(
    trades_per_day=3_000, book_updates_per_day=6_000, daily_vol=0.004, snapshot_interval_ms=1_000
)


@pytest.mark.parametrize("gz", [False, True], ids=["csv", "csv.gz"])
def test_ingesting_the_same_file_twice_gives_the_same_bytes(tmp_path: Path, gz: bool) -> None:
    files = write_day_csv(MARKET, EXCHANGE, SYMBOL, DAY, tmp_path / "in", gz=gz, max_rows=4_000)
    for data_type, written in files.items():
        a = ingest_file(written.path, data_type, tmp_path / "a" / f"{data_type}.parquet", day=DAY)
        b = ingest_file(written.path, data_type, tmp_path / "b" / f"{data_type}.parquet", day=DAY)
        assert a.rows == b.rows > 0
        assert a.dest.read_bytes() == b.dest.read_bytes(), data_type


def test_ingesting_the_same_batches_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    for data_type in ("trades", "incremental_book_L2"):
        out = []
        for run in ("a", "b"):
            rows = record_batches(MARKET, data_type, EXCHANGE, SYMBOL, DAY, max_rows=1_500)
            out.append(ingest_batches(rows, data_type, tmp_path / run / "p.parquet", day=DAY))
        assert out[0].dest.read_bytes() == out[1].dest.read_bytes(), data_type


def test_a_file_and_its_batches_give_the_same_lake_rows(tmp_path: Path) -> None:
    files = write_day_csv(MARKET, EXCHANGE, SYMBOL, DAY, tmp_path / "in", gz=False)
    for data_type in ("quotes", "book_snapshot_25"):
        csv = ingest_file(files[data_type].path, data_type, tmp_path / "f.parquet", day=DAY)
        rows = record_batches(MARKET, data_type, EXCHANGE, SYMBOL, DAY, max_rows=2_000)
        gen = ingest_batches(rows, data_type, tmp_path / "g.parquet", day=DAY)
        assert (csv.rows, csv.min_timestamp, csv.max_timestamp) == (
            gen.rows,
            gen.min_timestamp,
            gen.max_timestamp,
        )
        assert pl.read_parquet(csv.dest).equals(pl.read_parquet(gen.dest)), data_type


def test_the_footer_has_plain_types_and_row_group_statistics(tmp_path: Path) -> None:
    rows = record_batches(MARKET, "trades", EXCHANGE, SYMBOL, DAY, max_rows=1_000)
    result = ingest_batches(rows, "trades", tmp_path / "t.parquet", day=DAY)
    meta = pq.read_metadata(result.dest)
    # no Arrow schema blob: a reader sees Parquet's own types, whatever Arrow held in memory
    assert b"ARROW:schema" not in (meta.metadata or {})
    assert pl.read_parquet(result.dest).schema == lake_schema("trades")
    ts = meta.schema.names.index("timestamp")
    lows, highs = [], []
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(ts).statistics
        assert stats is not None and stats.has_min_max
        lows.append(stats.min)
        highs.append(stats.max)
    assert (min(lows), max(highs)) == (result.min_timestamp, result.max_timestamp)


def test_batches_are_gathered_into_large_row_groups(tmp_path: Path) -> None:
    schema = arrow_schema("trades")
    n = 1_000
    frame = MARKET.frame("trades", EXCHANGE, SYMBOL, DAY).head(n)
    batch = frame.to_arrow().cast(schema).to_batches()[0]
    copies = ROW_GROUP_ROWS // n + 2  # more small batches than one row group takes
    reader = pa.RecordBatchReader.from_batches(schema, [batch] * copies)
    result = ingest_batches(reader, "trades", tmp_path / "t.parquet", day=DAY)
    meta = pq.read_metadata(result.dest)
    sizes = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
    assert sum(sizes) == result.rows == n * copies
    assert sizes[0] >= ROW_GROUP_ROWS and len(sizes) == 2
    seq = pl.read_parquet(result.dest)["seq"]
    assert seq.to_list() == list(range(result.rows))


def test_generated_rows_that_break_a_rule_are_named(tmp_path: Path) -> None:
    frame = MARKET.frame("trades", EXCHANGE, SYMBOL, DAY).head(50)
    bad = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 7).then(-1.0).otherwise(pl.col("amount")).alias("amount")
    )
    table = bad.to_arrow().cast(arrow_schema("trades"))
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=5))
    dest = tmp_path / "t.parquet"
    with pytest.raises(TardisFileError, match=r"at seq 7: negative amount -1.0 in column amount"):
        ingest_batches(reader, "trades", dest, day=DAY)
    assert not dest.exists()


def test_write_parquet_uses_the_same_writer(tmp_path: Path) -> None:
    frame = MARKET.frame("quotes", EXCHANGE, SYMBOL, DAY)
    res = write_parquet(frame, "quotes", tmp_path / "q.parquet")
    back = pl.read_parquet(res.dest)
    assert back.schema == lake_schema("quotes")
    assert back.drop("seq").equals(frame)
    assert b"ARROW:schema" not in (pq.read_metadata(res.dest).metadata or {})


# -- the Arrow form of each rule agrees with its SQL form ------------------------------------------
def _probe_values(check: Check, kind: Kind) -> list[object]:
    """Values around every edge of ``check``: good ones, bad ones and NULL."""
    if kind is Kind.TEXT:
        return [*check.allowed, "x", "", "BUY", None] if check.allowed else ["a", "", None]
    if kind is Kind.FLAG:
        return [True, False, None]
    if kind is Kind.MICROS:
        lo, hi = check.bounds if check.fault is Fault.OUTSIDE else day_bounds_us(DAY)
        return [lo - 1, lo, lo + 1, hi - 1, hi, hi + 1, 0, None]
    return [1.5, 0.0, -0.0, -2.0, 1e-300, math.inf, -math.inf, math.nan, None]


_ARROW_OF = {
    Kind.TEXT: pa.string(),
    Kind.MICROS: pa.int64(),
    Kind.NUMBER: pa.float64(),
    Kind.FLAG: pa.bool_(),
}


@pytest.mark.parametrize("data_type", DATA_TYPES)
def test_arrow_rules_agree_with_the_sql_rules(data_type: str) -> None:
    kinds = {c.name: c.kind for c in columns(data_type)}
    checks = checks_for(data_type, DAY)
    assert {c.fault for c in checks} >= {Fault.MISSING, Fault.OUTSIDE}
    con = duckdb.connect(config={"python_enable_replacements": False})
    try:
        for check in checks:
            kind = kinds[check.column]
            for value in _probe_values(check, kind):
                column = pa.array([value], type=_ARROW_OF[kind])
                probe = pa.table({check.column: column})
                con.register("probe", probe)
                sql = con.sql(f"SELECT coalesce(bool_or({check.condition}), false) FROM probe")
                expected = sql.fetchall()[0][0]
                con.unregister("probe")
                assert breaks(check, column) is expected, (check.fault, check.column, value)
                found = first_bad_row(check, probe.to_batches()[0])
                assert (found is not None) is expected, (check.fault, check.column, value)
    finally:
        con.close()
