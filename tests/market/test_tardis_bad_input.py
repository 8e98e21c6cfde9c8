"""Each kind of bad tardis input fails with file + line + reason and leaves dest untouched."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tardis_assets.lib.market.tardis import (
    TardisFileError,
    ingest_file,
    lake_path,
    read_file,
    write_parquet,
)

TRADES = "bitmex_trades_2020-03-01_XBTUSD.csv"
DAY = date(2020, 3, 1)


def _lines(tardis_dir: Path) -> list[str]:
    return (tardis_dir / TRADES).read_text().splitlines()


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _replace_field(line: str, index: int, value: str) -> str:
    fields = line.split(",")
    fields[index] = value
    return ",".join(fields)


# Each case: (builder of the bad file, expected line, words the reason must contain)
Case = tuple[Callable[[Path, Path], Path], int | None, tuple[str, ...]]


def _wrong_header(tdir: Path, out: Path) -> Path:
    lines = _lines(tdir)
    lines[0] = lines[0].replace("amount", "size")
    return _write(out, lines)


def _missing_header(tdir: Path, out: Path) -> Path:
    return _write(out, _lines(tdir)[1:])


def _non_numeric(tdir: Path, out: Path) -> Path:
    lines = _lines(tdir)
    lines[4] = _replace_field(lines[4], 6, "8531.5x")  # physical line 5, column price
    return _write(out, lines)


def _negative_amount(tdir: Path, out: Path) -> Path:
    lines = _lines(tdir)
    lines[7] = _replace_field(lines[7], 7, "-1")  # line 8
    return _write(out, lines)


def _zero_price(tdir: Path, out: Path) -> Path:
    lines = _lines(tdir)
    lines[9] = _replace_field(lines[9], 6, "0")  # line 10
    return _write(out, lines)


def _truncated_gzip(tdir: Path, out: Path) -> Path:
    data = gzip.compress((tdir / TRADES).read_bytes())
    gz = out.with_suffix(".csv.gz")
    gz.write_bytes(data[: len(data) // 2])
    return gz


def _empty(tdir: Path, out: Path) -> Path:
    out.write_bytes(b"")
    return out


def _empty_gzip(tdir: Path, out: Path) -> Path:
    gz = out.with_suffix(".csv.gz")
    gz.write_bytes(gzip.compress(b""))  # what tardis serves for a day without data
    return gz


def _header_only(tdir: Path, out: Path) -> Path:
    return _write(out, _lines(tdir)[:1])


def _extra_field(tdir: Path, out: Path) -> Path:
    lines = _lines(tdir)
    lines[2] += ",7"  # line 3
    return _write(out, lines)


def _bad_side(tdir: Path, out: Path) -> Path:
    lines = _lines(tdir)
    lines[3] = _replace_field(lines[3], 5, "sideways")  # line 4
    return _write(out, lines)


def _missing_timestamp(tdir: Path, out: Path) -> Path:
    lines = _lines(tdir)
    lines[6] = _replace_field(lines[6], 3, "")  # line 7
    return _write(out, lines)


CASES: dict[str, Case] = {
    "wrong_header": (_wrong_header, 1, ("header", "amount", "size")),
    "missing_header": (_missing_header, 1, ("missing header",)),
    "non_numeric": (_non_numeric, 5, ("non-numeric", "price", "8531.5x")),
    "negative_amount": (_negative_amount, 8, ("negative amount", "amount")),
    "zero_price": (_zero_price, 10, ("non-positive price", "price")),
    "truncated_gzip": (_truncated_gzip, None, ("gzip",)),
    "empty_file": (_empty, 1, ("empty",)),
    "empty_gzip": (_empty_gzip, 1, ("empty",)),
    "header_only": (_header_only, 2, ("empty",)),
    "extra_field": (_extra_field, 3, ("fields",)),
    "bad_side": (_bad_side, 4, ("side", "sideways")),
    "missing_local_timestamp": (_missing_timestamp, 7, ("empty value", "local_timestamp")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_names_file_line_reason_and_writes_nothing(
    tardis_dir: Path, tmp_path: Path, name: str
) -> None:
    build, line, words = CASES[name]
    bad = build(tardis_dir, tmp_path / TRADES)
    lake = tmp_path / "lake"
    dest = lake_path(lake, "trades", "bitmex", "XBTUSD", DAY)
    with pytest.raises(TardisFileError) as info:
        ingest_file(bad, "trades", dest, day=DAY)
    err = info.value
    assert err.path == bad
    assert err.line == line
    for word in words:
        assert word in err.reason
    assert str(bad) in str(err)
    if line is not None:
        assert f"line {line}" in str(err)
    # nothing written: no file, no temp file, not even the partition folders
    assert not lake.exists()
    # read_file applies the same rules
    with pytest.raises(TardisFileError):
        read_file(bad, "trades", day=DAY)


@pytest.mark.parametrize(
    "name", ["non_numeric", "negative_amount", "truncated_gzip", "header_only"]
)
def test_bad_input_leaves_older_partition_intact_and_rerun_after_fix_succeeds(
    tardis_dir: Path, tmp_path: Path, name: str
) -> None:
    good = tardis_dir / TRADES
    dest = lake_path(tmp_path / "lake", "trades", "bitmex", "XBTUSD", DAY)
    first = ingest_file(good, "trades", dest, day=DAY)
    before = dest.read_bytes()
    other = lake_path(tmp_path / "lake", "trades", "bitmex", "ETHUSD", DAY)
    ingest_file(good, "trades", other, day=DAY)
    other_before = other.read_bytes()

    build, _, _ = CASES[name]
    (tmp_path / "incoming").mkdir()
    bad = build(tardis_dir, tmp_path / "incoming" / TRADES)
    with pytest.raises(TardisFileError):
        ingest_file(bad, "trades", dest, day=DAY)
    assert dest.read_bytes() == before
    assert other.read_bytes() == other_before
    assert sorted(p.name for p in dest.parent.iterdir()) == ["part-0.parquet"]

    # the user fixes the file (replaces it with a good copy): the re-run succeeds
    bad.unlink()
    fixed = tmp_path / "incoming" / TRADES
    shutil.copy(good, fixed)
    again = ingest_file(fixed, "trades", dest, day=DAY)
    assert again.rows == first.rows
    assert pl.read_parquet(dest).equals(read_file(good, "trades", with_seq=True))


def test_file_for_another_date(tardis_dir: Path, tmp_path: Path) -> None:
    dest = tmp_path / "lake" / "x.parquet"
    with pytest.raises(TardisFileError) as info:
        ingest_file(tardis_dir / TRADES, "trades", dest, day=date(2020, 3, 2))
    assert info.value.line == 2
    assert "outside 2020-03-02" in info.value.reason
    assert not dest.parent.exists()


def test_one_row_past_midnight_is_named(tardis_dir: Path, tmp_path: Path) -> None:
    lines = _lines(tardis_dir)
    lines[10] = _replace_field(lines[10], 3, str(1583107200000000))  # 2020-03-02 00:00:00
    bad = _write(tmp_path / TRADES, lines)
    with pytest.raises(TardisFileError) as info:
        ingest_file(bad, "trades", tmp_path / "out.parquet", day=DAY)
    assert info.value.line == 11
    assert "1583107200000000" in info.value.reason


def test_unknown_data_type(tardis_dir: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out.parquet"
    with pytest.raises(TardisFileError) as info:
        ingest_file(tardis_dir / TRADES, "book_ticker_v9", dest)
    assert "unknown data type" in info.value.reason
    assert not dest.exists()


def test_wrong_type_for_file_reports_header_difference(tardis_dir: Path) -> None:
    with pytest.raises(TardisFileError) as info:
        read_file(tardis_dir / TRADES, "quotes")
    assert info.value.line == 1
    assert "ask_amount" in info.value.reason


def test_reordered_header(tardis_dir: Path, tmp_path: Path) -> None:
    lines = (tardis_dir / "huobi-dm-swap_quotes_2020-05-01_BTC-USD.csv").read_text().splitlines()
    lines[0] = "exchange,symbol,timestamp,local_timestamp,bid_amount,bid_price,ask_price,ask_amount"
    bad = _write(tmp_path / "q.csv", lines)
    with pytest.raises(TardisFileError) as info:
        read_file(bad, "quotes")
    assert "order differs at position 5" in info.value.reason


def test_write_parquet_validates_frames(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "exchange": ["synthetic"] * 3,
            "symbol": ["BTCUSDT"] * 3,
            "timestamp": [1, 2, 3],
            "local_timestamp": [1, 2, 3],
            "id": ["1", None, "3"],
            "side": ["buy", "sell", "buy"],
            "price": [100.0, 101.0, 102.0],
            "amount": [1, 2, 3],  # ints are cast to Float64
        }
    )
    dest = tmp_path / "lake" / "t.parquet"
    res = write_parquet(frame, "trades", dest)
    assert res.rows == 3 and (res.min_timestamp, res.max_timestamp) == (1, 3)
    back = pl.read_parquet(dest)
    assert back["amount"].dtype == pl.Float64 and back["id"].to_list() == ["1", None, "3"]
    before = dest.read_bytes()

    bad = frame.with_columns(pl.Series("price", [100.0, -5.0, 102.0]))
    with pytest.raises(TardisFileError) as info:
        write_parquet(bad, "trades", dest)
    assert info.value.line == 3  # frame row 1 = CSV line 3
    assert dest.read_bytes() == before

    with pytest.raises(TardisFileError) as info:
        write_parquet(frame.drop("id"), "trades", dest)
    assert "missing columns ['id']" in info.value.reason
    assert dest.read_bytes() == before
