"""A failing blocking check stops the layers below it: a tick file that parses but repeats trade
ids fails raw_trades' quality check, and bars are not built from it in that run."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.errors import DagsterAssetCheckFailedError

from tardis_assets.defs.pipeline import run_layers

T0 = 1740787200000000  # 2025-03-01T00:00Z


def test_failed_quality_check_blocks_bars(registry, instance, resources):
    inputs = resources["market"].inputs()
    inputs.mkdir(parents=True, exist_ok=True)
    rows = [
        f"binance-futures,BTCUSDT,{T0 + i * 1_000_000},{T0 + i * 1_000_000 + 500},"
        f"{i % 50},buy,90000.5,0.01"  # ids repeat every 50 trades
        for i in range(200)
    ]
    header = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
    (inputs / "binance-futures_trades_2025-03-01_BTCUSDT.csv").write_text(
        "\n".join([header, *rows]) + "\n"
    )
    with pytest.raises(DagsterAssetCheckFailedError, match="raw_trades_quality"):
        run_layers(
            registry,
            ["raw_trades", "raw_quotes", "news", "bars"],
            "2025-03-01",
            resources,
            instance,
            "INFO",
        )
    evaluation = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("raw_trades"), "raw_trades_quality")]
    )
    assert evaluation
    assert instance.get_latest_materialization_event(dg.AssetKey("raw_trades")) is not None
    assert instance.get_latest_materialization_event(dg.AssetKey("bars")) is None
    assert not resources["warehouse"].warehouse().table_exists("bars")
