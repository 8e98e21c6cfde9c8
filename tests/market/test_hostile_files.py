"""Hostile files through the Dagster-free readers: gzip bombs and the inflate limits, truncated
streams and endless lines, news fields beyond the field limit, invalid UTF-8, and a plain CSV
named .gz. Each fails with the file (and line or byte offset) and the number of the limit, and
leaves the destination untouched."""

from __future__ import annotations

import gzip
import zlib
from datetime import date
from pathlib import Path

import pytest

from tardis_assets.lib.errors import ConfigError
from tardis_assets.lib.market.news import MAX_FIELD_CHARS, NewsFileError, read_news_file
from tardis_assets.lib.market.tardis import TardisFileError, column_names, ingest_file
from tardis_assets.lib.market.tardis.inflate import (
    InflateLimitError,
    InflateLimits,
    scan_gzip,
)
from tardis_assets.lib.settings import load_settings

DAY = date(2025, 3, 1)
T0 = 1740787200000000  # 2025-03-01T00:00Z
NAME = "binance-futures_trades_2025-03-01_BTCUSDT.csv.gz"
HEADER = ",".join(column_names("trades")).encode() + b"\n"
MIB = 1 << 20


def bomb(path: Path, fill: bytes, mib: int) -> Path:
    """A trades header then ``mib`` MiB of ``fill`` without a newline, compressed as written."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    with path.open("wb") as out:
        out.write(packer.compress(HEADER))
        for _ in range(mib):
            out.write(packer.compress(fill * MIB))
        out.write(packer.flush())
    return path


def trade_rows(n: int) -> bytes:
    return HEADER + b"".join(
        f"binance-futures,BTCUSDT,{T0 + i},{T0 + i + 5},{i},buy,{60000 + i % 97}.5,0.{i % 9 + 1}\n"
        .encode()
        for i in range(n)
    )  # fmt: skip


@pytest.mark.parametrize("fill", [b"\0", b"0"])
def test_a_gzip_bomb_stops_at_the_ratio_limit_and_writes_nothing(tmp_path: Path, fill: bytes):
    src = bomb(tmp_path / NAME, fill, mib=100)
    dest = tmp_path / "out" / "part.parquet"
    dest.parent.mkdir()
    dest.write_bytes(b"previous")
    with pytest.raises(InflateLimitError) as err:
        ingest_file(src, "trades", dest, day=DAY)
    text = str(err.value)
    assert str(src) in text
    assert "gzip stream expands beyond 100 bytes per compressed byte (max_inflate_ratio" in text
    assert "header only" not in text
    assert err.value.remedy and "max_inflate_ratio" in err.value.remedy
    assert dest.read_bytes() == b"previous"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["part.parquet"]


def test_the_size_limit_names_its_gib(tmp_path: Path):
    src = tmp_path / NAME
    src.write_bytes(gzip.compress(trade_rows(40_000), 1))  # ~3 MiB inflated
    limits = InflateLimits(max_gib=0.001)
    with pytest.raises(InflateLimitError, match=r"expands beyond 0\.001 GiB \(max_inflated_gib"):
        ingest_file(src, "trades", tmp_path / "part.parquet", day=DAY, limits=limits)
    assert not (tmp_path / "part.parquet").exists()
    # The same file within the default limits is a good day.
    assert ingest_file(src, "trades", tmp_path / "part.parquet", day=DAY).rows == 40_000


def test_scan_names_a_truncated_stream_and_an_endless_line(tmp_path: Path):
    whole = gzip.compress(trade_rows(2_000))
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(TardisFileError, match="truncated or corrupt gzip stream"):
        scan_gzip(cut, InflateLimits())
    long = tmp_path / "long.csv.gz"
    long.write_bytes(gzip.compress(trade_rows(3) + b"9" * 5_000 + b"\n"))
    with pytest.raises(TardisFileError) as err:
        scan_gzip(long, InflateLimits(), max_line=4_000)
    assert err.value.line == 5 and "line longer than 4,000 bytes" in str(err.value)


def test_invalid_limits_are_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="max_inflate_ratio=1 must be > 1"):
        InflateLimits(max_ratio=1)
    config = tmp_path / "tardis_assets.toml"
    config.write_text("[market]\nmax_inflated_gib = 2\nmax_inflate_ratio = 40\n")
    settings = load_settings(env={"TARDIS_CONFIG": str(config)}, cwd=tmp_path)
    assert settings.market.inflate == InflateLimits(max_gib=2.0, max_ratio=40.0)
    config.write_text("[market]\nmax_inflated_gib = -1\n")
    with pytest.raises(ConfigError, match=r"\[market\] max_inflated_gib=-1 must be > 0"):
        load_settings(env={"TARDIS_CONFIG": str(config)}, cwd=tmp_path)


def test_a_plain_csv_named_gz_is_read_and_noted(tmp_path: Path):
    src = tmp_path / NAME
    src.write_bytes(trade_rows(10))
    result = ingest_file(src, "trades", tmp_path / "part.parquet", day=DAY)
    assert result.rows == 10
    assert result.notes == (f"{NAME} is named .gz but is a plain CSV file: read as plain text",)
    plain = tmp_path / NAME.removesuffix(".gz")
    plain.write_bytes(trade_rows(10))
    assert ingest_file(plain, "trades", tmp_path / "p2.parquet", day=DAY).notes == ()


def news(tmp_path: Path, *rows: bytes) -> Path:
    path = tmp_path / "news_2025-03-01.csv"
    head = b"published_at,headline,source,symbols\n" + f"{T0 + 1000},short,wire,BTC\n".encode()
    path.write_bytes(head + b"".join(rows))
    return path


def test_a_headline_beyond_the_field_limit_names_file_and_line(tmp_path: Path):
    path = news(tmp_path, f"{T0 + 2000},{'x' * (MAX_FIELD_CHARS + 1)},wire,BTC\n".encode())
    with pytest.raises(NewsFileError) as err:
        read_news_file(path, DAY)
    assert err.value.line == 3
    assert f"{path}:3: a field longer than 131,072 characters" in str(err.value)
    # Exactly at the limit is accepted.
    path = news(tmp_path, f"{T0 + 2000},{'x' * MAX_FIELD_CHARS},wire,BTC\n".encode())
    assert read_news_file(path, DAY).height == 2


def test_a_quoted_field_over_many_lines_names_its_first_line(tmp_path: Path):
    body = ("y" * 1000 + "\n") * 140  # 140,140 characters inside one quoted field
    path = news(tmp_path, f'{T0 + 2000},"{body}",wire,BTC\n'.encode())
    with pytest.raises(NewsFileError) as err:
        read_news_file(path, DAY)
    assert err.value.line == 3 and "a field longer than 131,072 characters" in str(err.value)


def test_invalid_utf8_names_line_and_byte_offset(tmp_path: Path):
    path = news(tmp_path, f"{T0 + 2000},caf".encode() + b"\xe9,wire,BTC\n")
    with pytest.raises(NewsFileError) as err:
        read_news_file(path, DAY)
    # 37 header bytes + 32 of line 2 + 20 of "1740787200002000,caf": offset 89, 21st of line 3.
    assert err.value.line == 3
    assert "not UTF-8 text: byte 0xe9 at byte offset 89 of the file (byte 21 of the line)" in str(
        err.value
    )


def test_a_news_file_without_line_endings_is_not_read_whole(tmp_path: Path):
    path = news(tmp_path, b"z" * (3 * MIB))
    with pytest.raises(NewsFileError, match=r":3: line longer than [\d,]+ bytes"):
        read_news_file(path, DAY)
