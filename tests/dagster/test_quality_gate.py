"""Quality gates: a file breaking a blocking rule never replaces a good day, and a failing
blocking check stops the layers below it."""

from __future__ import annotations

import json

import dagster as dg
import pytest
from dagster._core.errors import DagsterAssetCheckFailedError

from tardis_assets.defs.pipeline import run_layers
from tardis_assets.defs.resources import QualityResource
from tardis_assets.defs.support.outcome import RunStopped

T0 = 1740787200000000  # 2025-03-01T00:00Z
HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
NAME = "binance-futures_trades_2025-03-01_BTCUSDT.csv"


def trades_file(resources, n: int, repeat_every: int | None = None) -> None:
    inputs = resources["market"].inputs()
    inputs.mkdir(parents=True, exist_ok=True)
    rows = [
        f"binance-futures,BTCUSDT,{T0 + i * 1_000_000},{T0 + i * 1_000_000 + 500},"
        f"{i % repeat_every if repeat_every else i},buy,90000.5,0.01"
        for i in range(n)
    ]
    (inputs / NAME).write_text("\n".join([HEADER, *rows]) + "\n")


def test_a_file_breaking_a_blocking_rule_never_replaces_a_good_day(registry, instance, resources):
    trades_file(resources, 200)
    run_layers(registry, ["raw_trades"], "2025-03-01", resources, instance, "INFO")
    wh = resources["warehouse"].warehouse()
    lake_file = next(resources["warehouse"].lake_root().glob("trades/**/part-0.parquet"))
    before = (lake_file.read_bytes(), wh.read("SELECT * FROM raw_files ORDER BY ALL").rows())

    trades_file(resources, 200, repeat_every=50)  # ids repeat every 50 trades
    with pytest.raises(RunStopped) as info:
        run_layers(registry, ["raw_trades"], "2025-03-01", resources, instance, "INFO")
    message = info.value.sentence()
    assert message.startswith("raw_trades 2025-03-01: ")
    assert NAME in message and "line 52" in message  # the first repeated id (row 50)
    assert "150 rows" in message and "repeating a trade id" in message
    assert "\n" not in message and "Traceback" not in message
    after = (lake_file.read_bytes(), wh.read("SELECT * FROM raw_files ORDER BY ALL").rows())
    assert after == before  # the good day is byte-identical, its ingest log unchanged
    assert not [p for p in lake_file.parent.iterdir() if p != lake_file]  # no staging left


def test_failed_blocking_check_stops_bars(registry, instance, resources):
    trades_file(resources, 200)
    run_layers(registry, ["raw_trades"], "2025-03-01", resources, instance, "INFO")
    # The deployment then tolerates no silence longer than a minute, as an error: the stored
    # measurements fail the check on its next run, without re-reading the ticks, and bars wait.
    strict = QualityResource(
        overrides_json=json.dumps(
            {"raw": {"longest_silence_seconds": {"max": 60, "severity": "error"}}}
        )
    )
    with pytest.raises(DagsterAssetCheckFailedError, match="raw_trades_quality"):
        dg.materialize(
            [*registry.assets, *registry.checks],
            selection=dg.AssetSelection.checks_for_assets("raw_trades")
            | dg.AssetSelection.assets("bars"),
            partition_key="2025-03-01",
            resources={**resources, "quality": strict},
            instance=instance,
        )
    (evaluation,) = [
        e
        for e in instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("raw_trades"), "raw_trades_quality")]
        ).values()
    ]
    check = evaluation.event.dagster_event.event_specific_data
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "longest stretch without a row" in check.description
    assert "from 2025-03-01 00:03:19 to 2025-03-02 00:00:00 UTC" in check.description
    assert instance.get_latest_materialization_event(dg.AssetKey("bars")) is None
    assert not resources["warehouse"].warehouse().table_exists("bars")
