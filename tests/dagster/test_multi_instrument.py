"""Three instruments on two exchanges, real-format files for some days and synthetic data for the
others, configured by a project file: end to end through Dagster, and through the CLI."""

from __future__ import annotations

import csv
import dataclasses
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from tardis_assets.defs.backtest.assets import default_strategy_run_id
from tardis_assets.defs.pipeline import materialize_days
from tardis_assets.defs.registry import build_registry
from tardis_assets.defs.resources import resources_from
from tardis_assets.lib.days import day_start_us
from tardis_assets.lib.settings import load_settings
from tardis_assets.lib.signals import SignalSettings
from tardis_assets.lib.summary import instrument_summary

REPO = Path(__file__).resolve().parents[2]
DAYS = [date(2025, 3, 1), date(2025, 3, 2)]
INSTRUMENTS = ["binance-futures:BTCUSDT", "binance-futures:ETHUSDT", "bitmex:XBTUSD"]
CONFIG = """
[data]
dir = "data"

[market]
instruments = ["binance-futures:BTCUSDT", "binance-futures:ETHUSDT", "bitmex:XBTUSD"]
raw_types = ["trades", "quotes"]
synthetic_trades_per_day = 20000

[llm]
provider = "offline"
window_minutes = 5

# The real bitmex excerpt has ten trades in its first seconds: a quiet day, by design.
[quality.instruments."bitmex:XBTUSD".bars]
quiet_bars = { severity = "warn" }
"""


def real_bitmex_day(fixtures: Path, inputs: Path, day: date) -> Path:
    """The real bitmex trades excerpt, moved to ``day`` (times shifted, rows as they were)."""
    src = fixtures / "bitmex_trades_2020-03-01_XBTUSD.csv"
    shift = day_start_us(day) - day_start_us(date(2020, 3, 1))
    inputs.mkdir(parents=True, exist_ok=True)
    dest = inputs / f"bitmex_trades_{day.isoformat()}_XBTUSD.csv"
    with src.open() as fh, dest.open("w", newline="") as out:
        rows = csv.reader(fh)
        writer = csv.writer(out)
        writer.writerow(next(rows))
        for row in rows:
            row[2], row[3] = str(int(row[2]) + shift), str(int(row[3]) + shift)
            writer.writerow(row)
    return dest


def test_three_instruments_through_dagster(tmp_path, instance, tardis_fixtures):
    (tmp_path / "tardis_assets.toml").write_text(CONFIG)
    settings = load_settings(env={}, cwd=tmp_path)
    real_bitmex_day(tardis_fixtures, settings.data.inputs, DAYS[0])
    registry = build_registry(settings)
    resources = resources_from(settings)
    # Every daily layer for every instrument; the range studies run in the CLI test below.
    materialize_days(registry, DAYS, resources, instance, report=lambda _: None, ranges=False)
    wh = resources["warehouse"].warehouse()
    table = instrument_summary(wh, DAYS, default_strategy_run_id())
    assert table.height == len(DAYS) * len(INSTRUMENTS)
    rows = {(r["date"], f"{r['exchange']}:{r['symbol']}"): r for r in table.iter_rows(named=True)}
    assert set(rows) == {(d, i) for d in DAYS for i in INSTRUMENTS}
    real = rows[(DAYS[0], "bitmex:XBTUSD")]
    assert (real["source"], real["ticks"]) == ("file", 10)
    assert rows[(DAYS[1], "bitmex:XBTUSD")]["source"] == "synthetic"
    assert all(r["bars"] > 0 and r["trades"] is not None for r in rows.values())
    signals = wh.read(
        "SELECT exchange, symbol, count(DISTINCT kind) AS kinds FROM llm_signals GROUP BY ALL"
    )
    assert signals.height == 3 and set(signals["kinds"]) == {3}


def test_three_instruments_through_the_cli(tmp_path, tardis_fixtures):
    (tmp_path / "tardis_assets.toml").write_text(CONFIG)
    real_bitmex_day(tardis_fixtures, tmp_path / "data" / "inputs", DAYS[0])
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    for name in ("TARDIS_CONFIG", "TARDIS_DATA_DIR", "TARDIS_INSTRUMENTS", "TARDIS_RAW_TYPES"):
        env.pop(name, None)  # the project file in the working directory decides
    done = subprocess.run(
        [sys.executable, "-m", "tardis_assets.cli", "demo", "--start", "2025-03-01", "--days", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])},
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [ln.split() for ln in done.stdout.splitlines() if ln.startswith("2025-03-01")]
    per_instrument = [ln for ln in lines if len(ln) > 2 and ":" in ln[1]]
    assert sorted(ln[1] for ln in per_instrument) == sorted(INSTRUMENTS)
    bitmex = next(ln for ln in per_instrument if ln[1] == "bitmex:XBTUSD")
    assert bitmex[2:4] == ["file", "10"]
    # What latency costs, for the instrument the range assets study (the first by default):
    # the tick replay's PnL at five model latencies.
    (latency,) = [ln for ln in done.stdout.splitlines() if ln.startswith("latency study ")]
    assert latency.split()[2] == INSTRUMENTS[0] and latency.count(" | ") == 4, latency


def test_the_shipped_project_file_holds_the_defaults(tmp_path):
    shipped = load_settings(env={"TARDIS_CONFIG": str(REPO / "tardis_assets.toml")}, cwd=REPO)
    built_in = load_settings(env={}, cwd=tmp_path)
    assert shipped.market == built_in.market
    # The file spells some signal settings out; resolved, they are the defaults.
    assert SignalSettings(**shipped.llm.signals) == SignalSettings(**built_in.llm.signals)
    assert dataclasses.replace(shipped.llm, signals={}) == dataclasses.replace(
        built_in.llm, signals={}
    )
    assert shipped.data.dir == REPO / "data" and not shipped.schedules_on
