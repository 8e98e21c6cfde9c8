"""One day through every layer in real Dagster runs, then the same day again from the cache."""

from __future__ import annotations

import gzip
from datetime import date

import dagster as dg
import pytest

from tardis_assets.defs.pipeline import materialize_days, run_layers
from tardis_assets.defs.support.outcome import RunStopped
from tardis_assets.lib.storage.digest import content_hashes as table_hashes
from tardis_assets.lib.warehouse import Warehouse

DAY = date(2025, 3, 1)
TABLES = [
    "raw_files",
    "news",
    "bars",
    "llm_signals",
    "llm_calls",
    "llm_partition_latest",
    "backtest_per_bar",
    "backtest_summary",
    "optimization_results",
    "llm_optimization_results",
    "walk_forward_oos",
    "risk_summary",
    "risk_bands",
    "range_backtest_summary",
]


def content_hashes(wh: Warehouse, tables: list[str] = TABLES) -> dict[str, tuple[int, str]]:
    return table_hashes(wh, tables)


def test_whole_graph_then_rerun_from_cache(registry, instance, resources, offline_server):
    results = materialize_days(registry, [DAY], resources, instance, report=lambda _: None)
    assert all(r.success for r in results)
    wh = resources["warehouse"].warehouse()
    first = content_hashes(wh)
    calls_after_first = offline_server.request_count()

    assert first["bars"][0] == 1440
    assert first["llm_signals"][0] == 3 * 1440
    assert calls_after_first > 0
    assert first["llm_calls"][0] > 0
    # Every window has a row per kind; what was asked is recorded: sentiment per headline (no
    # call without news), pattern and risk on the cadence, the latest answer in effect between.
    rows = wh.read(
        "SELECT kind, status, reason, count(*) AS n FROM llm_signals GROUP BY ALL ORDER BY ALL"
    )
    by = {(k, s, r): n for k, s, r, n in rows.iter_rows()}
    assert sum(n for (k, _, _), n in by.items() if k == "sentiment") == 1440
    assert by[("sentiment", "ok", "headlines")] > 0
    assert by[("sentiment", "no_news", "no_news")] > 0
    asked = 1440 // 15  # the default cadence: every 15 windows, from midnight
    for kind in ("pattern", "risk"):
        assert by[(kind, "ok", "schedule")] == asked
        assert by[(kind, "not_asked", "between_asks")] == 1440 - asked
    # No signal may be usable before its window closed.
    early = wh.read(
        "SELECT count(*) AS n FROM llm_signals WHERE available_at < bar_start + INTERVAL 1 MINUTE"
    )
    assert early["n"][0] == 0
    # Asset checks ran and passed, and materializations carry the LLM metadata.
    checks = [e for r in results for e in r.get_asset_check_evaluations()]
    assert checks and all(c.passed for c in checks)
    signal_meta = instance.get_latest_materialization_event(dg.AssetKey("llm_signals"))
    assert "cost_usd" in signal_meta.asset_materialization.metadata
    sweep = instance.get_latest_materialization_event(dg.AssetKey("strategy_optimization"))
    sweep_meta = sweep.asset_materialization.metadata
    assert sweep_meta["n_combinations"].value >= 10_000
    assert {"best_sharpe", "dsr", "pbo", "sharpe_heatmap"} <= set(sweep_meta)
    risk = instance.get_latest_materialization_event(dg.AssetKey("risk_report"))
    assert {"var_95", "cvar_99", "p_drawdown_floor"} <= set(risk.asset_materialization.metadata)

    materialize_days(registry, [DAY], resources, instance, report=lambda _: None)
    assert offline_server.request_count() == calls_after_first  # zero HTTP calls
    second = content_hashes(wh)
    # Same rows everywhere; the latest stats describe the second run (all cache hits), so only
    # their row count must stay. The ledger is what was paid: unchanged by a cached re-run.
    assert {t: n for t, (n, _) in second.items()} == {t: n for t, (n, _) in first.items()}
    assert {t: h for t, h in second.items() if t != "llm_partition_latest"} == {
        t: h for t, h in first.items() if t != "llm_partition_latest"
    }
    stats = wh.read(
        "SELECT sum(http_calls) AS calls, sum(cache_hits) AS hits, sum(requests) AS asked "
        "FROM llm_partition_latest"
    )
    calls, hits, asked_total = stats.row(0)
    assert calls == 0 and hits == asked_total > 0


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("exchange,symbol,timestamp,local_timestamp,id,side,price\n", "header"),
        (None, "price"),  # non-numeric price
        (None, "amount"),  # negative amount
        (None, "gzip"),  # truncated .csv.gz
    ],
)
def test_bad_tardis_file_stops_only_its_partition(registry, instance, resources, content, reason):
    good_day, bad_day = date(2025, 3, 1), date(2025, 3, 2)
    run_layers(
        registry, ["raw_trades", "news", "bars"], good_day.isoformat(), resources, instance, "INFO"
    )
    wh = resources["warehouse"].warehouse()
    written = ["raw_files", "news", "bars"]
    before = content_hashes(wh, written)
    inputs = resources["market"].inputs()
    inputs.mkdir(parents=True, exist_ok=True)
    path = inputs / "binance-futures_trades_2025-03-02_BTCUSDT.csv"
    header = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
    t = 1740873600000000
    row = f"binance-futures,BTCUSDT,{t},{t + 5},1,buy,100.5,0.1\n"
    if reason == "price":
        content = header + row + row.replace("100.5", "abc")
    elif reason == "amount":
        content = header + row + row.replace("0.1\n", "-0.1\n")
    if reason == "gzip":
        path = path.with_suffix(".csv.gz")
        packed = gzip.compress((header + row * 5000).encode())
        path.write_bytes(packed[: len(packed) // 2])
    else:
        path.write_text(content)
    with pytest.raises(RunStopped) as info:
        run_layers(registry, ["raw_trades"], bad_day.isoformat(), resources, instance, "INFO")
    failure = info.value.sentence()
    assert "2025-03-02" in failure  # the partition
    assert str(path.name) in failure and reason in failure.lower()
    if reason in ("price", "amount"):
        assert ":3" in failure or "line 3" in failure  # the bad row is physical line 3
    assert content_hashes(wh, written) == before  # nothing written, earlier partition untouched
    lake = resources["warehouse"].lake_root()
    assert not [p for p in lake.rglob("*") if "2025-03-02" in str(p) and p.is_file()]
