"""Settings: defaults, the project file, then environment variables; typos are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tardis_assets.lib.errors import ConfigError
from tardis_assets.lib.settings import load_settings

FILE = """
[data]
dir = "store"

[market]
instruments = ["binance-futures:BTCUSDT", "binance-futures:ETHUSDT", "deribit:BTC-PERPETUAL"]
raw_types = ["quotes", "derivative_ticker"]
bar_seconds = 300

[llm]
window_minutes = 5
provider = "offline"

[quality.instruments."deribit:BTC-PERPETUAL".bars]
quiet_bars = { max = 600, severity = "warn" }
"""


def test_defaults_need_no_file(tmp_path: Path) -> None:
    s = load_settings(env={}, cwd=tmp_path)
    assert s.source == "defaults"
    assert s.market.instruments == ("binance-futures:BTCUSDT",)
    assert s.market.raw_types == (
        "trades",
        "quotes",
        "book_snapshot_25",
        "incremental_book_L2",
        "derivative_ticker",
    )
    assert s.data.lake == str(tmp_path / "data" / "lake")
    assert s.llm.provider is None and not s.schedules_on


def test_project_file_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "tardis_assets.toml").write_text(FILE)
    s = load_settings(env={}, cwd=tmp_path)
    assert s.source == str(tmp_path / "tardis_assets.toml")
    assert len(s.market.instruments) == 3
    assert s.market.raw_types == ("trades", "quotes", "derivative_ticker")  # trades first
    assert (s.market.bar_seconds, s.llm.signals["window_minutes"]) == (300, 5)
    assert s.data.dir == tmp_path / "store"  # relative to the file's folder
    assert s.quality["instruments"]["deribit:BTC-PERPETUAL"]["bars"]["quiet_bars"]["max"] == 600


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    conf = tmp_path / "elsewhere.toml"
    conf.write_text(FILE)
    env = {
        "TARDIS_CONFIG": str(conf),
        "TARDIS_INSTRUMENTS": "bitmex:XBTUSD",
        "TARDIS_DATA_DIR": str(tmp_path / "d"),
        "TARDIS_SCHEDULES": "on",
        "HOLYSHEEP_API_KEY": "sk-secret-value",
    }
    s = load_settings(env=env, cwd=Path("/"))
    assert s.market.instruments == ("bitmex:XBTUSD",)
    assert s.data.inputs == tmp_path / "d" / "inputs" and s.schedules_on
    assert s.key_is_set("HOLYSHEEP_API_KEY")
    assert "sk-secret-value" not in repr(s)  # names of keys only, never values


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[market]\ninstrument = ['x:Y']\n", "unknown setting 'instrument'"),
        ("[markets]\n", r"unknown section \[markets\]"),
        ("[market]\ninstruments = ['BTCUSDT']\n", "exchange:SYMBOL"),
        ("[market]\nraw_types = ['trade']\n", "unknown tardis data types"),
        ("[market]\nbar_seconds = 7\n", "divide a day"),
        ("[quality.bars]\nquiet = { max = 1 }\n", "unknown bars rule"),
        ("[market\n", "invalid TOML"),
    ],
)
def test_bad_files_are_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "tardis_assets.toml").write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(env={}, cwd=tmp_path)
    assert "tardis_assets.toml" in str(info.value)
