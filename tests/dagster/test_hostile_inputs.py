"""Hostile input files through the real ingest path and the real command: gzip bombs, the
configured inflate limits, a headline beyond the field limit, invalid UTF-8 in news, and a plain
CSV named .gz.

Each failing case first materializes a good version of the partition, then drops the hostile
file in and runs `tardis-assets demo`: one sentence naming the file (and line or byte offset)
and the limit, exit 1, no traceback, one attempt of the step (bad input is never retried), and
the partition's lake files byte-identical to the good version, with nothing left beside them.
"""

from __future__ import annotations

import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest
from cli_kit import assert_one_sentence, base_config, run_cli, step_attempts

from tardis_assets.defs.pipeline import run_layers
from tardis_assets.defs.registry import build_registry
from tardis_assets.defs.resources import resources_from
from tardis_assets.lib.market.tardis import column_names, read_file
from tardis_assets.lib.settings import load_settings

DAY = "2025-03-01"
T0 = 1740787200000000  # 2025-03-01T00:00Z
TRADES = "binance-futures_trades_2025-03-01_BTCUSDT.csv.gz"
NEWS = "news_2025-03-01.csv"
HEADER = ",".join(column_names("trades")).encode() + b"\n"
TRADES_FILES = ("trades/", "raw_files/data_type=trades/", "raw_quality/data_type=trades/")
MIB = 1 << 20


def project(tmp: Path, extra: str = "") -> str:
    """The project file of a test: trades only (fast days), the given [market] lines."""
    (tmp / "home").mkdir(exist_ok=True)
    (tmp / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return base_config(tmp, 'raw_types = ["trades"]\n' + extra)


def materialize(tmp: Path, config: str, layers: list[str], day: str = DAY) -> None:
    """The good version: a real Dagster run on the instance and lake the command uses."""
    path = tmp / "tardis_assets.toml"
    path.write_text(config)
    settings = load_settings(env={"TARDIS_CONFIG": str(path)}, cwd=tmp)
    with dg.DagsterInstance.from_config(str(tmp / "home")) as instance:
        run_layers(build_registry(settings), layers, day, resources_from(settings), instance)


def lake_files(tmp: Path, prefixes: tuple[str, ...]) -> dict[str, bytes]:
    lake = tmp / "data" / "lake"
    files = {str(p.relative_to(lake)): p for p in lake.rglob("*") if p.is_file()}
    return {name: p.read_bytes() for name, p in sorted(files.items()) if name.startswith(prefixes)}


def leftovers(tmp: Path) -> list[Path]:
    """Staging and temporary files (hidden names) anywhere in the lake."""
    return [p for p in (tmp / "data" / "lake").rglob(".*")]


def inputs(tmp: Path) -> Path:
    folder = tmp / "data" / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_bomb(path: Path, fill: bytes, mib: int = 200) -> None:
    """A trades header, then ``mib`` MiB of ``fill`` without a newline, gzip-compressed as it is
    produced (the file is a few hundred KiB)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    chunk = fill * MIB
    with path.open("wb") as out:
        out.write(packer.compress(HEADER))
        for _ in range(mib):
            out.write(packer.compress(chunk))
        out.write(packer.flush())


def assert_refused(tmp: Path, done, step: str, before: dict[str, bytes], *facts: str) -> str:
    line = assert_one_sentence(done, *facts)
    assert step_attempts(tmp / "home", step) == 1  # not retried: bad input is not transient
    prefixes = TRADES_FILES if step == "raw_trades" else ("news/",)
    assert lake_files(tmp, prefixes) == before  # the good version, byte for byte
    assert leftovers(tmp) == []
    return line


def demo(tmp: Path, config: str):
    return run_cli(tmp, config, "demo", "--start", DAY, "--days", "1")


@pytest.mark.parametrize(("fill", "name"), [(b"\0", "nul"), (b"0", "zero")])
def test_gzip_bomb_stops_at_the_ratio_limit(tmp_path: Path, fill: bytes, name: str) -> None:
    config = project(tmp_path)
    materialize(tmp_path, config, ["raw_trades"])
    before = lake_files(tmp_path, TRADES_FILES)
    assert before
    write_bomb(inputs(tmp_path) / TRADES, fill)
    done = demo(tmp_path, config)
    line = assert_refused(
        tmp_path,
        done,
        "raw_trades",
        before,
        "raw_trades 2025-03-01",
        TRADES,
        "gzip stream expands beyond 100 bytes per compressed byte",
        "max_inflate_ratio",
    )
    assert "header only" not in line and "empty" not in line


@pytest.fixture(scope="module")
def seventy_mib_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plausible trades day that inflates to ~70 MiB at about 4x (gzip level 1)."""
    rows = 900_000
    rng = np.random.default_rng(5)
    local = T0 + np.sort(rng.integers(0, 86_400_000_000, rows))
    frame = pl.DataFrame(
        {
            "exchange": ["binance-futures"] * rows,
            "symbol": ["BTCUSDT"] * rows,
            "timestamp": local - rng.integers(1_000, 60_000, rows),
            "local_timestamp": local,
            "id": np.arange(10**9, 10**9 + rows).astype(str),
            "side": np.where(rng.random(rows) < 0.5, "buy", "sell"),
            "price": np.round(60_000 + np.cumsum(rng.normal(0, 0.6, rows)), 1),
            "amount": np.round(rng.lognormal(-4, 1.3, rows), 3) + 0.001,
        }
    )
    path = tmp_path_factory.mktemp("big") / TRADES
    path.write_bytes(zlib.compress(frame.write_csv().encode(), 1, wbits=31))
    return path


@pytest.mark.parametrize(
    ("setting", "fact"),
    [
        ("max_inflated_gib = 0.05", "gzip stream expands beyond 0.05 GiB (max_inflated_gib"),
        ("max_inflate_ratio = 2", "gzip stream expands beyond 2 bytes per compressed byte"),
    ],
)
def test_configured_inflate_limits(
    tmp_path: Path, seventy_mib_day: Path, setting: str, fact: str
) -> None:
    config = project(tmp_path, setting + "\n")
    materialize(tmp_path, config, ["raw_trades"])
    before = lake_files(tmp_path, TRADES_FILES)
    shutil.copy(seventy_mib_day, inputs(tmp_path) / TRADES)
    done = demo(tmp_path, config)
    assert_refused(tmp_path, done, "raw_trades", before, "raw_trades 2025-03-01", TRADES, fact)


def news_file(tmp: Path, second_row: bytes) -> None:
    head = b"published_at,headline,source,symbols\n" + f"{T0 + 1000},short,wire,BTC\n".encode()
    (inputs(tmp) / NEWS).write_bytes(head + second_row)


@pytest.fixture
def good_news(tmp_path: Path) -> Iterator[tuple[str, dict[str, bytes]]]:
    config = project(tmp_path)
    materialize(tmp_path, config, ["news"])
    before = lake_files(tmp_path, ("news/",))
    assert before
    yield config, before


def test_headline_beyond_the_field_limit(tmp_path: Path, good_news) -> None:
    config, before = good_news
    news_file(tmp_path, f"{T0 + 2000},{'x' * 140_000},wire,BTC\n".encode())
    done = demo(tmp_path, config)
    assert_refused(
        tmp_path,
        done,
        "news",
        before,
        "news 2025-03-01",
        f"{NEWS}:3",
        "a field longer than 131,072 characters",
    )
    assert "_csv.Error" not in done.stderr and "DagsterMaxRetriesExceededError" not in done.stderr


def test_invalid_utf8_in_news_names_line_and_byte_offset(tmp_path: Path, good_news) -> None:
    config, before = good_news
    news_file(tmp_path, f"{T0 + 2000},caf".encode() + b"\xff" + b",wire,BTC\n")
    done = demo(tmp_path, config)
    # header 37 bytes + line 2 32 bytes + "1740787200002000,caf" 20 bytes: byte 89, 21st of line 3
    assert_refused(
        tmp_path,
        done,
        "news",
        before,
        "news 2025-03-01",
        f"{NEWS}:3",
        "not UTF-8 text: byte 0xff at byte offset 89 of the file (byte 21 of the line)",
    )
    assert "UnicodeDecodeError" not in done.stderr


def test_plain_csv_named_gz_is_read_and_logged(tmp_path: Path, tardis_fixtures: Path) -> None:
    """A real tardis excerpt, unpacked but still named .gz: accepted, and the log says so."""
    config = project(tmp_path, 'instruments = ["bitmex:XBTUSD"]\n')
    plain = tardis_fixtures / "bitmex_trades_2020-03-01_XBTUSD.csv"
    named = inputs(tmp_path) / "bitmex_trades_2020-03-01_XBTUSD.csv.gz"
    shutil.copy(plain, named)
    materialize(tmp_path, config, ["raw_trades"], day="2020-03-01")
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        (run,) = instance.get_runs(limit=1)
        messages = [e.user_message for e in instance.all_logs(run.run_id)]
    note = (
        "trades 2020-03-01 bitmex:XBTUSD: bitmex_trades_2020-03-01_XBTUSD.csv.gz is named .gz "
        "but is a plain CSV file: read as plain text"
    )
    assert note in messages
    (lake_file,) = (tmp_path / "data" / "lake" / "trades").rglob("*.parquet")
    expected = read_file(plain, "trades")
    stored = pl.read_parquet(lake_file, hive_partitioning=False).select(expected.columns)
    assert stored.equals(expected)
