"""A canary API key given as a Dagster EnvVar never lands in logs, metadata, DuckDB, the cache or
exception text, even when the provider echoes the Authorization header in its error bodies."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from tardis_assets.defs.pipeline import run_layers
from tardis_assets.defs.resources import LLMResource
from tardis_assets.lib.llm import Faults, OfflineServer

CANARY = "sk-canary-7f3e9b1c2d4a"
DAY = "2025-03-01"


def files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_canary_key_is_never_stored_or_logged(
    registry, instance, resources, tmp_path, monkeypatch, capfd
):
    monkeypatch.setenv("TARDIS_TEST_LLM_KEY", CANARY)
    faults = Faults(rate_500=0.05, echo_auth_in_errors=True, seed=3)
    with OfflineServer(faults=faults) as server:
        llm = LLMResource(
            provider="offline",
            base_url=server.base_url,
            api_key=dg.EnvVar("TARDIS_TEST_LLM_KEY"),
            cache_path=resources["llm"].cache_path,
        )
        run_resources = {**resources, "llm": llm}
        run_layers(
            registry,
            ["raw_trades", "raw_quotes", "news", "bars"],
            DAY,
            run_resources,
            instance,
            "DEBUG",
        )
        key = dg.MultiPartitionKey({"date": DAY, "kind": "sentiment"})
        run_layers(registry, ["llm_signals"], key, run_resources, instance, "DEBUG")
        requests = server.request_count()

    wh = resources["warehouse"].warehouse()
    calls = wh.read("SELECT count(*) AS n, sum(attempts) AS tries FROM llm_calls").row(0)
    assert requests > calls[0] > 0  # some calls were retried after injected 500s
    errors = wh.read("SELECT count(*) AS n FROM llm_calls WHERE attempts > 1")["n"][0]
    assert errors > 0  # the echoing error bodies really were received
    # Every text column of every view of the catalog, queried (Parquet compresses strings).
    with wh.catalog.connect() as conn:
        columns = conn.sql(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_schema = 'main'"
        ).fetchall()
        assert len({table for table, _ in columns}) >= 5
        for table, column in columns:
            hits = conn.sql(
                f'SELECT count(*) FROM "{table}" WHERE "{column}" LIKE ?', params=[f"%{CANARY}%"]
            ).fetchall()
            assert hits[0][0] == 0, f"{table}.{column}"
    data_dir = wh.lake.root.parent
    home = Path(instance.root_directory)
    assert files_containing(data_dir, CANARY.encode()) == []  # cache, lake, warehouse bytes
    assert files_containing(home, CANARY.encode()) == []  # event log, compute logs
    records = instance.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    )
    assert records and all(CANARY not in repr(r.event_log_entry) for r in records)
    out, err = capfd.readouterr()
    assert CANARY not in out and CANARY not in err
