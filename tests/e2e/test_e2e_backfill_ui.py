"""End to end through the real UI stack: ``dagster dev`` (webserver + daemon + code server) on a
free loopback port with a temp DAGSTER_HOME and warehouse, a 2-day backfill of the whole graph
submitted through GraphQL and executed by the daemon, then the lineage and cost rendered in
headless Chromium, then the same backfill again to show it changes nothing, then the same days
with the direct driver (this command orders the layers, not the daemon).

The tests in this module share one server and run in file order (pytest's default): the browser
and the re-run need the first backfill's results.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_kit import REPO, dev_server

from tardis_assets.defs.registry import Registry, build_registry
from tardis_assets.lib.settings import load_settings
from tardis_assets.lib.storage.digest import lake_hashes
from tardis_assets.lib.tables import TABLES
from tardis_assets.lib.warehouse import Warehouse
from tardis_assets.operate.backfill import (
    BackfillFailed,
    BackfillInputError,
    BackfillOutcome,
    format_outcome,
    local_request,
    run_backfill,
    submit_and_wait,
)
from tardis_assets.operate.devserver import DevServer
from tardis_assets.operate.direct import DIRECT_TAG, PRIORITY_TAG, RANGE_END_TAG, RANGE_START_TAG
from tardis_assets.operate.graphql import DagsterGraphQL, RunInfo

pytestmark = pytest.mark.e2e

LOCATION = Path(__file__).with_name("e2e_small_location.py")
DAYS = ("2025-03-01", "2025-03-02")
KINDS = ("sentiment", "pattern", "risk")
LAYERS = ("raw_trades", "raw_quotes", "news", "bars", "llm_signals", "backtest_results")
DAILY = ("raw_trades", "raw_quotes", "news", "bars", "backtest_results")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BACKFILL_TIMEOUT_S = 300.0


def e2e_registry() -> Registry:
    return build_registry(load_settings())


def warehouse_counts(data: Path) -> dict[str, int]:
    """Rows per lake table and in the raw trades view, read through the catalog's views.

    ``llm_partition_stats`` keeps one file per run by design (run history); its view of the
    latest run per partition, ``llm_partition_latest``, is counted instead.
    """
    wh = Warehouse.at(data / "lake", data / "warehouse.duckdb")
    names = [t.name for t in TABLES if t.name != "llm_partition_stats"] + ["llm_partition_latest"]
    counts = {
        name: int(wh.read(f"SELECT count(*) AS n FROM {name}")["n"][0])
        for name in names
        if wh.table_exists(name)
    }
    counts["raw_trades (lake view)"] = int(wh.read("SELECT count(*) AS n FROM raw_trades")["n"][0])
    return counts


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def server(root: Path) -> Iterator[DevServer]:
    # The offline stand-in whatever keys the environment holds: no network, no spend.
    offline = {"TARDIS_LLM_PROVIDER": "offline", "TARDIS_LLM_BASE_URL": ""}
    with dev_server(root, LOCATION, "tardis_assets", REPO / "dagster.yaml", offline) as dev:
        yield dev


@pytest.fixture(scope="module")
def client(server: DevServer) -> Iterator[DagsterGraphQL]:
    with DagsterGraphQL(server.url) as gql:
        yield gql


@pytest.fixture(scope="module")
def first_backfill(client: DagsterGraphQL) -> tuple[BackfillOutcome, list[str]]:
    """The whole graph for two days, submitted through GraphQL like the CLI does."""
    lines: list[str] = []
    request = local_request(DAYS[0], DAYS[-1], None, e2e_registry())
    outcome = submit_and_wait(client, request, timeout_s=BACKFILL_TIMEOUT_S, out=lines.append)
    return outcome, lines


def wait_idle(client: DagsterGraphQL, timeout_s: float = 120.0) -> None:
    """Wait until no run is queued or executing (say, one an automation sensor started)."""
    deadline = time.monotonic() + timeout_s
    while active := client.active_runs():
        assert time.monotonic() < deadline, f"runs still active: {active}"
        time.sleep(1.0)


def backfill_runs(client: DagsterGraphQL, backfill_id: str):
    runs = client.runs(backfill_id=backfill_id)
    assert runs, f"backfill {backfill_id} launched no runs"
    return runs


def backfill_again(
    server: DevServer,
    lines: list[str],
    *,
    days: tuple[str, ...] = DAYS,
    select: str | None = None,
    driver: str = "daemon",
) -> BackfillOutcome:
    """``run_backfill`` against the module's server, as the CLI would call it."""
    return run_backfill(
        days[0],
        days[-1],
        select,
        server.url,
        e2e_registry(),
        timeout_s=BACKFILL_TIMEOUT_S,
        out=lines.append,
        driver=driver,
    )


def test_asset_nodes_as_designed(client: DagsterGraphQL) -> None:
    nodes = client.asset_nodes()
    assert set(LAYERS) <= set(nodes), sorted(nodes)
    assert "raw_trades" in nodes["bars"]["deps"], nodes["bars"]
    assert {"bars", "news"} <= set(nodes["llm_signals"]["deps"]), nodes["llm_signals"]
    assert set(nodes["backtest_results"]["deps"]) >= {"bars", "llm_signals"}
    assert nodes["llm_signals"]["dimensions"] == ["date", "kind"]
    assert nodes["llm_signals"]["keys_per_day"] == len(KINDS)
    assert nodes["llm_signals"]["backfill_policy"] == "SINGLE_RUN"
    # Blocking quality gates on the layers (more checks may exist; these must).
    assert nodes["bars"]["checks"].get("bars_ohlc_consistent") is True, nodes["bars"]["checks"]
    assert nodes["llm_signals"]["checks"].get("llm_signals_coverage") is True
    for name in DAILY:
        assert nodes[name]["partitioned"] and nodes[name]["keys_per_day"] == 1, name


def test_backfill_of_whole_graph_succeeds(
    client: DagsterGraphQL, first_backfill: tuple[BackfillOutcome, list[str]]
) -> None:
    outcome, lines = first_backfill
    report = format_outcome(outcome) + "\n" + "\n".join(lines)
    assert outcome.status == "COMPLETED_SUCCESS", report
    assert not outcome.failed_runs and not outcome.failed_checks, report
    assert outcome.succeeded, report
    assert [p.partition for p in outcome.partitions] == list(DAYS)
    for part in outcome.partitions:
        assert {a: part.assets[a] for a in LAYERS} == dict.fromkeys(LAYERS, "ok"), report
    runs = backfill_runs(client, outcome.backfill_id)
    assert {r.status for r in runs} == {"SUCCESS"}, [(r.assets, r.status) for r in runs]


def test_partitions_materialized(
    client: DagsterGraphQL, first_backfill: tuple[BackfillOutcome, list[str]]
) -> None:
    for name in DAILY:
        assert client.materialized_partitions(name) == set(DAYS), name
    expected = {f"{day}|{kind}" for day in DAYS for kind in KINDS}
    assert client.materialized_partitions("llm_signals") == expected


def test_checks_passed(
    client: DagsterGraphQL, first_backfill: tuple[BackfillOutcome, list[str]]
) -> None:
    """Every check of every asset the backfill materialized was evaluated there and passed."""
    run_ids = {r.run_id for r in backfill_runs(client, first_backfill[0].backfill_id)}
    nodes = client.asset_nodes()
    seen = set()
    for asset, node in nodes.items():
        materialized_in = {m.run_id for m in client.materializations(asset) if m.run_id in run_ids}
        for check in node["checks"]:
            executions = [e for e in client.check_executions(asset, check) if e.run_id in run_ids]
            # A planned per-partition execution of an unpartitioned check is marked SKIPPED.
            evaluated = [e for e in executions if e.status != "SKIPPED"]
            bad = [(e.partition, e.status, e.metadata) for e in evaluated if not e.passed]
            assert not bad, f"{asset}.{check} did not pass: {bad}"
            assert all(e.status == "SUCCEEDED" for e in evaluated), (asset, check, evaluated)
            # Every run that materialized the asset also evaluated its check.
            missing = materialized_in - {e.run_id for e in evaluated}
            assert not missing, f"{asset}.{check} not evaluated in runs {missing}"
            seen.add(f"{asset}.{check}")
    assert {"bars.bars_ohlc_consistent", "llm_signals.llm_signals_coverage"} <= seen, seen


def test_signal_cost_metadata(
    client: DagsterGraphQL, first_backfill: tuple[BackfillOutcome, list[str]]
) -> None:
    run_ids = {r.run_id for r in backfill_runs(client, first_backfill[0].backfill_id)}
    events = [m for m in client.materializations("llm_signals") if m.run_id in run_ids]
    assert len(events) == len(DAYS) * len(KINDS)
    for event in events:
        meta = event.metadata
        assert isinstance(meta.get("cost_usd"), float), (event.partition, meta)
        # A fresh warehouse and cache: real HTTP calls to the stand-in, priced from the routing.
        assert meta["cost_usd"] > 0 and meta["llm_calls"] > 0, (event.partition, meta)
        assert meta["ok"] == meta["requests"] > 0, (event.partition, meta)


def test_no_duckdb_lock_errors(
    client: DagsterGraphQL, first_backfill: tuple[BackfillOutcome, list[str]]
) -> None:
    for run in backfill_runs(client, first_backfill[0].backfill_id):
        errors = client.run_errors(run.run_id)
        locks = [e for e in errors if "lock" in e.lower()]
        assert not locks, f"run {run.run_id} ({run.assets}): {locks}"


def _skip_community_dialog(page) -> None:
    """The first visit of a fresh instance shows a 'Join the Dagster community' dialog."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.click(timeout=10_000)
    except Exception:  # no dialog this time: nothing to dismiss
        return


def test_lineage_and_cost_rendered_in_browser(
    server: DevServer,
    client: DagsterGraphQL,
    first_backfill: tuple[BackfillOutcome, list[str]],
    root: Path,
) -> None:
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        pytest.skip("Debian chromium is not installed (`make test` installs it with apt-get)")
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))
    shots = root / "data"
    latest = {
        m.partition: m.metadata["cost_usd"] for m in client.materializations("llm_signals", limit=1)
    }
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(
                f"{server.url}/assets/llm_signals?view=lineage&lineageDepth=5",
                wait_until="domcontentloaded",
            )
            _skip_community_dialog(page)
            # The lineage graph is one SVG: asset nodes as foreignObjects, edges as paths.
            graph = page.locator("svg[class*='LineageGraph']").first
            graph.wait_for(timeout=30_000)
            for name in LAYERS:
                graph.get_by_text(name, exact=True).first.wait_for(timeout=30_000)
            edges = graph.locator("path").count()
            assert edges >= 5, f"lineage graph has {edges} edges"
            page.screenshot(path=str(shots / "e2e_lineage.png"))

            page.goto(f"{server.url}/assets/llm_signals", wait_until="domcontentloaded")
            _skip_community_dialog(page)
            page.get_by_text("cost_usd", exact=True).first.wait_for(timeout=30_000)
            body = page.inner_text("body")
            page.screenshot(path=str(shots / "e2e_llm_signals.png"))
        finally:
            browser.close()
    (cost,) = latest.values()
    shown = [f"{cost}", f"{cost:.6f}".rstrip("0"), f"{cost:.4f}", f"{cost:.2f}"]
    assert any(text in body for text in shown), (
        f"cost {cost} not rendered; page text around cost_usd: "
        f"{body[max(0, body.find('cost_usd') - 200) : body.find('cost_usd') + 200]!r}"
    )
    assert (shots / "e2e_lineage.png").stat().st_size > 10_000
    keep = os.environ.get("TARDIS_E2E_SCREENSHOT_DIR")
    if keep:  # pytest's temp dirs rotate: copy the screenshots somewhere lasting on request
        Path(keep).mkdir(parents=True, exist_ok=True)
        for shot in ("e2e_lineage.png", "e2e_llm_signals.png"):
            shutil.copyfile(shots / shot, Path(keep) / shot)


def test_rerun_of_same_backfill_changes_nothing(
    server: DevServer,
    client: DagsterGraphQL,
    first_backfill: tuple[BackfillOutcome, list[str]],
    root: Path,
) -> None:
    # Read while no run is active, so both counts describe finished runs.
    wait_idle(client)
    before = warehouse_counts(root / "data")
    assert before["llm_signals"] > 0 and before["bars"] > 0, before
    lines: list[str] = []
    outcome = backfill_again(server, lines)
    printed = "\n".join(lines)
    assert outcome.succeeded, printed
    table = [line.split() for line in printed.splitlines() if line.startswith(DAYS)]
    assert [row[0] for row in table] == list(DAYS), printed
    assert all(set(row[1:]) == {"ok"} for row in table), printed
    wait_idle(client)
    after = warehouse_counts(root / "data")
    assert after == before
    run_ids = {r.run_id for r in backfill_runs(client, outcome.backfill_id)}
    events = [m for m in client.materializations("llm_signals") if m.run_id in run_ids]
    assert len(events) == len(DAYS) * len(KINDS)
    for event in events:
        meta = event.metadata
        assert meta["llm_calls"] == 0 and meta["cache_hits"] == meta["requests"], meta


def _run_day(run: RunInfo) -> str:
    return (run.partition or run.tags[RANGE_START_TAG]).split("|")[0]


def test_direct_driver_runs_each_day_in_layer_order(
    server: DevServer,
    client: DagsterGraphQL,
    first_backfill: tuple[BackfillOutcome, list[str]],
    root: Path,
) -> None:
    """The same days with ``--driver direct``: no daemon loop between the layers of a day, each
    layer launched after the runs it needs ended, and the same bytes as the daemon's backfill."""
    wait_idle(client)
    wh = Warehouse.at(root / "data" / "lake", root / "data" / "warehouse.duckdb")
    before = {t: h for t, h in lake_hashes(wh).items() if not t.startswith("llm_partition")}
    lines: list[str] = []
    outcome = backfill_again(server, lines, driver="direct")
    printed = "\n".join(lines)
    assert outcome.succeeded and outcome.status == "COMPLETED_SUCCESS", printed
    assert outcome.run_tag == (DIRECT_TAG, outcome.backfill_id)
    assert "in 3 layer(s)" in printed, printed
    for part in outcome.partitions:
        assert {a: part.assets[a] for a in LAYERS} == dict.fromkeys(LAYERS, "ok"), printed
    runs = client.runs(tag=outcome.run_tag)
    assert {r.status for r in runs} == {"SUCCESS"}, runs
    assert not client.runs(backfill_id=outcome.backfill_id), "a direct backfill is no Dagster one"
    for day in DAYS:
        layers = sorted(
            (r for r in runs if _run_day(r) == day), key=lambda r: int(r.tags[PRIORITY_TAG])
        )
        assert [len(r.assets) for r in layers] == [7, 1, 2], [r.assets for r in layers]
        assert layers[1].assets == ("llm_signals",)
        assert layers[1].tags[RANGE_END_TAG] == f"{day}|{KINDS[-1]}"
        for upstream, downstream in itertools.pairwise(layers):
            assert upstream.end_time is not None and downstream.start_time is not None
            assert downstream.start_time >= upstream.end_time, (upstream, downstream)
    wait_idle(client)
    after = {t: h for t, h in lake_hashes(wh).items() if not t.startswith("llm_partition")}
    assert after == before
    run_ids = {r.run_id for r in runs}
    events = [m for m in client.materializations("llm_signals") if m.run_id in run_ids]
    assert len(events) == len(DAYS) * len(KINDS)
    assert all(m.metadata["llm_calls"] == 0 for m in events), [m.metadata for m in events]


def test_direct_driver_stops_a_day_at_its_failed_run(
    server: DevServer, client: DagsterGraphQL, first_backfill: tuple[BackfillOutcome, list[str]]
) -> None:
    """Signals of a day without bars fail: the backtests that need them are never launched,
    and the summary says which run failed and why."""
    day = "2025-03-05"
    lines: list[str] = []
    with pytest.raises(BackfillFailed):
        backfill_again(
            server, lines, days=(day,), select="llm_signals,backtest_results", driver="direct"
        )
    printed = "\n".join(lines)
    backfill_id = printed.split("direct backfill ", 1)[1].split(":", 1)[0]
    (row,) = [line.split() for line in printed.splitlines() if line.startswith(day)]
    assert row == [day, "failed", "missing"], printed
    assert f"no bars for {day}" in printed, printed
    runs = client.runs(tag=(DIRECT_TAG, backfill_id))
    assert [(r.assets, r.status) for r in runs] == [(("llm_signals",), "FAILURE")], runs


def test_direct_driver_refuses_what_it_cannot_split_by_day(
    server: DevServer, client: DagsterGraphQL
) -> None:
    """A range-level asset has no day partitions: refused before any run, naming the asset
    and the driver that can run it."""
    before = len(client.runs(limit=10_000))
    with pytest.raises(BackfillInputError, match=r"strategy_optimization is not partitioned"):
        backfill_again(server, [], select="bars,strategy_optimization", driver="direct")
    assert len(client.runs(limit=10_000)) == before
