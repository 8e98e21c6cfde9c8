"""The quality rules table: defaults, overrides per type and instrument, severities, typos."""

from __future__ import annotations

import pytest

from tardis_assets.lib.errors import ConfigError
from tardis_assets.lib.quality.rules import QualityRules, Severity, worst

QUIET = "deribit:BTC-25DEC26-100000-C"
LIQUID = "binance-futures:BTCUSDT"


def test_defaults_are_the_packaged_table() -> None:
    rules = QualityRules.load()
    bars = rules.rules("bars", LIQUID)
    assert (bars["quiet_bars"].max, bars["quiet_bars"].severity) == (60, Severity.ERROR)
    raw = rules.rules("raw", LIQUID, "trades")
    assert raw["out_of_order_share"].max == 0.001
    assert raw["longest_silence_seconds"].severity is Severity.WARN


def test_a_quiet_instrument_warns_where_a_liquid_one_blocks() -> None:
    rules = QualityRules.load(
        {"instruments": {QUIET: {"bars": {"quiet_bars": {"max": 720, "severity": "warn"}}}}}
    )
    quiet = rules.judge("bars", QUIET, {"quiet_bars": 900}, where="bars 2025-03-01 " + QUIET)
    liquid = rules.judge("bars", LIQUID, {"quiet_bars": 900}, where="bars 2025-03-01 " + LIQUID)
    assert worst(quiet) is Severity.WARN and worst(liquid) is Severity.ERROR
    assert "limit 720 bars, warn" in quiet[0].sentence()
    assert rules.judge("bars", QUIET, {"quiet_bars": 700}, where="x") == []


def test_overrides_resolve_layer_then_type_then_instrument() -> None:
    rules = QualityRules.load(
        {
            "raw": {"out_of_order_share": {"max": 0.01}, "quotes": {"rows": {"min": 100}}},
            "instruments": {LIQUID: {"raw": {"quotes": {"rows": {"severity": "off"}}}}},
        }
    )
    assert rules.rules("raw", QUIET, "trades")["out_of_order_share"].max == 0.01
    assert rules.rules("raw", QUIET, "quotes")["rows"].min == 100
    assert rules.rules("raw", QUIET, "trades")["rows"].min == 1
    off = rules.rules("raw", LIQUID, "quotes")["rows"]
    assert off.severity is Severity.OFF and not off.broken_by(0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"bars": {"quiet_bar": {"max": 1}}}, "unknown bars rule 'quiet_bar'"),
        ({"bars": {"quiet_bars": {"max": "lots"}}}, "is not a number"),
        ({"bars": {"quiet_bars": {"severity": "fatal"}}}, "Use error, warn or off"),
        ({"bar": {}}, "unknown quality layer"),
        ({"instruments": {"BTCUSDT": {}}}, "exchange:SYMBOL"),
        ({"bars": {"quiet_bars": {"maximum": 1}}}, "unknown fields"),
    ],
)
def test_typos_fail_at_load_with_the_source_named(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        QualityRules.load(overrides, "tardis_assets.toml")
    assert "tardis_assets.toml" in str(info.value)
