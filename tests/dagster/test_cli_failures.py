"""Expected failures end the CLI with one sentence and a non-zero exit, never a traceback.

Each case is the real command in its own process, on a temporary data folder, DAGSTER_HOME and
project file, so what is checked is exactly what a person sees in the terminal.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_kit import assert_one_sentence, base_config, run_cli, step_attempts

DAY = "2025-03-01"
T0 = 1740787200000000  # 2025-03-01T00:00Z
HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"


def trades(tmp: Path, name: str, lines: list[str]) -> None:
    inputs = tmp / "data" / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    (inputs / name).write_text("\n".join([HEADER, *lines]) + "\n")


def test_bad_input_file(tmp_path: Path) -> None:
    name = "binance-futures_trades_2025-03-01_BTCUSDT.csv"
    row = f"binance-futures,BTCUSDT,{T0},{T0 + 5},1,buy,100.5,0.1"
    trades(tmp_path, name, [row, row.replace("100.5", "abc")])
    done = run_cli(tmp_path, base_config(tmp_path), "demo", "--start", DAY, "--days", "1")
    assert_one_sentence(
        done, "raw_trades 2025-03-01", name, "line 3", "price", "abc", "re-download"
    )


def test_missing_file_with_synthetic_off(tmp_path: Path) -> None:
    config = base_config(tmp_path, 'synthetic_when_missing = false\nraw_types = ["trades"]\n')
    done = run_cli(tmp_path, config, "demo", "--start", DAY, "--days", "1")
    assert_one_sentence(
        done,
        "raw_trades 2025-03-01",
        "binance-futures:BTCUSDT",
        "binance-futures_trades_2025-03-01_BTCUSDT.csv.gz does not exist",
        "synthetic_when_missing",
    )


def quiet_day(tmp: Path) -> None:
    """A real-format file of an illiquid instrument: a trade every 10 minutes, and none between
    10:00 and 10:30 (the longest silence: 29 bars from 10:01 to 10:30)."""
    name = "deribit_trades_2025-03-01_BTC-25DEC26-100000-C.csv"
    minute = 60_000_000
    trades(
        tmp,
        name,
        [
            f"deribit,BTC-25DEC26-100000-C,{T0 + i * 10 * minute},{T0 + i * 10 * minute + 900},"
            f"{i},buy,0.05,1.0"
            for i in range(144)
            if i not in (61, 62)
        ],
    )


QUIET_CONFIG = '[market]\ninstruments = ["deribit:BTC-25DEC26-100000-C"]\nraw_types = ["trades"]\n'


def test_blocking_check_names_instrument_minutes_and_remedy(tmp_path: Path) -> None:
    quiet_day(tmp_path)
    config = f'[data]\ndir = "{tmp_path / "data"}"\n\n' + QUIET_CONFIG
    config += "\n[quality.bars]\nquiet_bars = { max = 20 }\n"  # a deployment's own limit
    done = run_cli(tmp_path, config, "demo", "--start", DAY, "--days", "1")
    assert_one_sentence(
        done,
        "bars_no_long_gaps 2025-03-01",
        "deribit:BTC-25DEC26-100000-C",
        "29 bars from 2025-03-01 10:01 to 2025-03-01 10:30 UTC",
        "limit 20 bars, error",
        '[quality.instruments."deribit:BTC-25DEC26-100000-C".bars]',
    )


@pytest.mark.parametrize(("severity", "passes"), [("warn", True), ("error", False)])
def test_a_quiet_instrument_passes_with_warn_and_blocks_with_error(
    registry, instance, resources, tmp_path: Path, severity: str, passes: bool
) -> None:
    import json

    import dagster as dg

    from tardis_assets.defs.pipeline import run_layers
    from tardis_assets.defs.resources import MarketResource, QualityResource
    from tardis_assets.defs.support.outcome import RunStopped

    quiet_day(tmp_path / "q")
    market = MarketResource(
        instruments=["deribit:BTC-25DEC26-100000-C"], inputs_dir=str(tmp_path / "q/data/inputs")
    )
    rule = {"quiet_bars": {"max": 20, "severity": severity}}
    quality = QualityResource(
        overrides_json=json.dumps({"instruments": {"deribit:BTC-25DEC26-100000-C": {"bars": rule}}})
    )
    run = {**resources, "market": market, "quality": quality}
    layers = ["raw_trades", "bars"]
    if passes:
        result = run_layers(registry, layers, DAY, run, instance)
        (gaps,) = [
            e for e in result.get_asset_check_evaluations() if e.check_name == "bars_no_long_gaps"
        ]
        assert not gaps.passed and gaps.severity == dg.AssetCheckSeverity.WARN
        assert "29 bars" in gaps.description and "limit 20 bars, warn" in gaps.description
        assert resources["warehouse"].warehouse().table_exists("bars")
    else:
        with pytest.raises(RunStopped, match="limit 20 bars, error"):
            run_layers(registry, layers, DAY, run, instance)


def test_a_provider_that_only_fails_ends_with_one_sentence(tmp_path: Path) -> None:
    """Every response a fault (rate limits, server errors, broken JSON, schema-breaking
    values): one sentence with the ok share, each model's breaker, the last provider error and
    what to try; the reason is printed once, not once per log line or retry."""
    from tardis_assets.lib.llm import OfflineServer
    from tardis_assets.lib.llm.offline_faults import Faults

    faults = Faults(
        rate_429=0.25, rate_500=0.25, rate_malformed=0.25, rate_bad_value=0.25, retry_after_s=0.05
    )
    config = base_config(tmp_path, 'raw_types = ["trades"]\n')
    with OfflineServer(faults=faults) as srv:
        done = run_cli(
            tmp_path,
            config,
            "demo",
            "--start",
            DAY,
            "--days",
            "1",
            env={"TARDIS_LLM_BASE_URL": srv.base_url},
        )
        served = srv.stats()["log"]
    assert served and all(entry["fault"] is not None for entry in served)
    line = assert_one_sentence(
        done,
        "llm_signals 2025-03-01|sentiment",
        "ok share 0.00",
        "breakers: deepseek-chat ",
        "gemini-2.0-flash ",
        "last provider error: ",
        "tardis-assets llm ping",
    )
    assert (done.stdout + done.stderr).count("ok share") == 1, line
    assert step_attempts(tmp_path / "home", "llm_signals") == 1


LLM_CONFIG = '[market]\nsynthetic_trades_per_day = 20000\nraw_types = ["trades"]\n'


def test_look_ahead_refusal_names_models_cutoffs_and_remedy(tmp_path: Path) -> None:
    config = f'[data]\ndir = "{tmp_path / "data"}"\n\n' + LLM_CONFIG
    done = run_cli(tmp_path, config, "demo", "--start", "2024-01-10", "--days", "1")
    line = assert_one_sentence(
        done,
        "llm_signals 2024-01-10|sentiment",
        "refused as in-sample",
        "deepseek-chat knows data up to 2024-07-01",
        "allow_in_sample",
    )
    assert "of" in line.split("refused")[0]  # "N of N requests": the count is given


def test_budget_exhausted_names_spend_cap_and_remedy(tmp_path: Path) -> None:
    config = f'[data]\ndir = "{tmp_path / "data"}"\n\n' + LLM_CONFIG
    config += "\n[llm]\nbudget_run_usd = 0.01\n"
    done = run_cli(tmp_path, config, "demo", "--start", DAY, "--days", "1")
    assert_one_sentence(
        done, "llm_signals 2025-03-01|", "not sent", "run cap $0.01", "budget_run_usd"
    )


def test_provider_down_names_breakers_last_error_and_remedy(tmp_path: Path) -> None:
    """Nothing listens on the discard port: every call fails to connect."""
    config = f'[data]\ndir = "{tmp_path / "data"}"\n\n' + LLM_CONFIG
    config += '\n[llm]\nbase_url = "http://127.0.0.1:9/v1"\n'
    done = run_cli(tmp_path, config, "demo", "--start", DAY, "--days", "1", provider="local")
    assert_one_sentence(
        done,
        "llm_signals 2025-03-01|sentiment: provider down",
        "ok share 0.00",
        "open",
        "connection error",
        "tardis-assets llm ping",
    )
