"""`tardis-assets backfill`: validate a day range, submit it as a Dagster asset backfill, report.

Why through a webserver's GraphQL and not in-process: a backfill is then Dagster's own object (the
daemon orders the layers, the UI shows it, a failed run can be retried from the UI) and every run
respects the instance's ``duckdb`` pool. Input is validated against the code location's own
definitions before anything is contacted, so bad input never submits half a backfill.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from tardis_assets.defs.support.context import LLM_MODE_TAG
from tardis_assets.operate.devserver import DevServer, DevServerError
from tardis_assets.operate.direct import RANGE_END_TAG, RANGE_START_TAG, PlanError, run_direct
from tardis_assets.operate.graphql import BACKFILL_TAG, BackfillInfo, DagsterGraphQL, GraphQLError

if TYPE_CHECKING:  # the registry imports every asset: only the CLI path that needs it pays
    from tardis_assets.defs.registry import Registry

DEFAULT_URL = "http://127.0.0.1:3000"  # where `make ui` serves
DEFAULT_TIMEOUT_S = 6 * 3600.0
MAX_DAYS = 3660
DRIVERS = ("daemon", "direct")  # who orders the layers: Dagster's backfill daemon, or this command

Printer = Callable[[str], None]


class BackfillError(Exception):
    """Base of the errors the command reports as one clear line; ``exit_code`` for the CLI."""

    exit_code = 1


class BackfillInputError(BackfillError):
    """The request is wrong (dates, assets): nothing was submitted."""

    exit_code = 2


class BackfillFailed(BackfillError):
    """The backfill ran but some partition or check did not succeed."""

    exit_code = 1


@dataclass(frozen=True)
class BackfillRequest:
    start: date
    end: date
    assets: tuple[str, ...]  # the assets to backfill (default: every day-partitioned one)
    tags: tuple[tuple[str, str], ...] = ()  # inherited by every run of the backfill

    @property
    def partition_names(self) -> list[str]:
        days = (self.end - self.start).days + 1
        return [(self.start + timedelta(days=i)).isoformat() for i in range(days)]


@dataclass(frozen=True)
class PartitionResult:
    partition: str
    # asset -> "ok", "failed", "missing" or "k/n" (a date x kind asset with k of n kinds done)
    assets: dict[str, str]

    @property
    def ok(self) -> bool:
        return all(v == "ok" for v in self.assets.values())


@dataclass(frozen=True)
class BackfillOutcome:
    backfill_id: str
    status: str
    seconds: float
    partitions: list[PartitionResult]
    unpartitioned: dict[str, str]
    failed_checks: list[str]
    failed_runs: list[str]
    run_tag: tuple[str, str]  # the tag every run of this backfill carries (key, value)

    @property
    def succeeded(self) -> bool:
        return (
            self.status in ("COMPLETED", "COMPLETED_SUCCESS")
            and all(p.ok for p in self.partitions)
            and all(v == "ok" for v in self.unpartitioned.values())
            and not self.failed_checks
            and not self.failed_runs
        )


def _parse_day(flag: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise BackfillInputError(f"{flag} {text!r} is not a UTC day (YYYY-MM-DD)") from None


def parse_request(
    start: str,
    end: str,
    select: str | Sequence[str] | None,
    known_assets: Sequence[str],
    *,
    first_day: date,
    last_day: date,
    default_assets: Sequence[str] | None = None,
) -> BackfillRequest:
    """Check a request before anything is contacted; the message says which flag is wrong.

    ``last_day`` is the newest complete UTC day (Dagster's daily partitions end there): a day
    still running, or in the future, has no partition yet.
    """
    day_from = _parse_day("--from", start)
    day_to = _parse_day("--to", end)
    if day_from > day_to:
        raise BackfillInputError(f"--from {day_from} is after --to {day_to}")
    if day_to > last_day:
        raise BackfillInputError(
            f"--to {day_to} is in the future or not over yet: the newest complete UTC day "
            f"(last daily partition) is {last_day}"
        )
    if day_from < first_day:
        raise BackfillInputError(f"--from {day_from} is before the first partition {first_day}")
    if (day_to - day_from).days + 1 > MAX_DAYS:
        raise BackfillInputError(f"{day_from}..{day_to} is more than {MAX_DAYS} days")
    names = select.split(",") if isinstance(select, str) else list(select or [])
    names = [n.strip() for n in names if n.strip()] or list(default_assets or ())
    unknown = sorted(set(names) - set(known_assets))
    if unknown:
        raise BackfillInputError(
            f"unknown asset(s) {', '.join(unknown)} in --select; known: "
            f"{', '.join(sorted(known_assets))}"
        )
    return BackfillRequest(day_from, day_to, tuple(dict.fromkeys(names)))


def local_request(
    start: str, end: str, select: str | Sequence[str] | None, registry: Registry
) -> BackfillRequest:
    """Validate against the code location's registry (no server needed)."""
    from tardis_assets.defs.partitions import daily

    known = registry.names()
    # A backfill is over days: by default every day-partitioned asset (the range-level research
    # assets are materialized on their own, over whatever days are stored).
    partitioned = registry.names(partitioned=True)
    last = daily.get_last_partition_key()
    return parse_request(
        start,
        end,
        select,
        known,
        first_day=date.fromisoformat(daily.get_first_partition_key() or "1970-01-01"),
        # No partition at all yet (start date today): nothing is complete.
        last_day=date.fromisoformat(last) if last else datetime.now(UTC).date() - timedelta(1),
        default_assets=partitioned,
    )


def _cell(asset: str, day: str, done: set[str], failed: set[str], kinds: int) -> str:
    """Status of one asset for one day; date x kind keys look like ``2025-03-01|risk``."""
    if kinds > 1:
        n_done = sum(1 for p in done if p.split("|")[0] == day)
        n_failed = sum(1 for p in failed if p.split("|")[0] == day)
        if n_done == kinds:
            return "ok"
        return "failed" if n_failed else f"{n_done}/{kinds}"
    if day in done:
        return "ok"
    return "failed" if day in failed else "missing"


def summarize(
    client: DagsterGraphQL,
    request: BackfillRequest,
    info: BackfillInfo,
    seconds: float,
    run_tag: tuple[str, str] | None = None,
) -> BackfillOutcome:
    """Per-partition result from what the backfill's own runs materialized and checked."""
    nodes = client.asset_nodes()
    assets = list(request.assets or nodes)
    run_ids = {r.run_id for r in info.runs}
    run_tag = run_tag or (BACKFILL_TAG, info.backfill_id)
    done: dict[str, set[str]] = {}
    for asset in assets:
        # Newest first, and this backfill is the newest activity: room for retries and re-runs.
        limit = 4 * len(request.partition_names) * _kinds(nodes[asset]) + 100
        done[asset] = {
            m.partition or ""
            for m in client.materializations(asset, limit=limit)
            if m.run_id in run_ids
        }
    failed_runs = [r for r in info.runs if r.status != "SUCCESS"]
    failed_parts: dict[str, set[str]] = {a: set() for a in assets}
    for run in failed_runs:
        partition = run.partition or _one_day_range(run.tags)
        for asset in run.assets:
            if asset in failed_parts and partition:
                failed_parts[asset].add(partition)
    kinds_of = {a: _kinds(nodes[a]) for a in assets}
    partitioned = [a for a in assets if nodes[a]["partitioned"]]
    partitions = [
        PartitionResult(
            day,
            {a: _cell(a, day, done[a], failed_parts[a], kinds_of[a]) for a in partitioned},
        )
        for day in request.partition_names
    ]
    unpartitioned = {
        a: "ok" if "" in done[a] else "missing" for a in assets if not nodes[a]["partitioned"]
    }
    failed_checks = []
    for asset in assets:
        for check in nodes[asset]["checks"]:
            for ex in client.check_executions(asset, check):
                if ex.run_id in run_ids and ex.status in ("FAILED", "EXECUTION_FAILED"):
                    where = f"[{ex.partition}]" if ex.partition else ""
                    failed_checks.append(f"{asset}.{check}{where}: {ex.status}")
    failed_run_lines = []
    for run in failed_runs:
        errors = [e for e in client.run_errors(run.run_id) if "Failure" in e.split(":")[0]]
        reason = errors[-1].strip() if errors else run.status
        failed_run_lines.append(f"run {run.run_id} ({', '.join(run.assets)}): {reason[:400]}")
    return BackfillOutcome(
        backfill_id=info.backfill_id,
        status=info.status,
        seconds=seconds,
        partitions=partitions,
        unpartitioned=unpartitioned,
        failed_checks=failed_checks,
        failed_runs=failed_run_lines,
        run_tag=run_tag,
    )


def _one_day_range(tags: dict[str, str]) -> str | None:
    """The first key of a run's partition range when the range is one day's keys (a direct
    backfill's date x kind run), so that a failed run marks its day failed."""
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if start and end and start.split("|")[0] == end.split("|")[0]:
        return start
    return None


def _kinds(node: dict) -> int:
    """How many keys one day has for this asset (date x kind assets have one per kind)."""
    return int(node.get("keys_per_day") or 1)


def format_outcome(outcome: BackfillOutcome) -> str:
    lines = [
        f"backfill {outcome.backfill_id}: {outcome.status} in {outcome.seconds:.0f} s",
    ]
    if outcome.partitions:
        columns = list(outcome.partitions[0].assets)
        widths = [max(len(c), 7) for c in columns]
        lines.append(
            "date        " + "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
        )
        for part in outcome.partitions:
            cells = [part.assets[c].ljust(w) for c, w in zip(columns, widths, strict=True)]
            lines.append(f"{part.partition}  " + "  ".join(cells))
    for asset, state in outcome.unpartitioned.items():
        lines.append(f"{asset} (unpartitioned): {state}")
    lines += [f"check failed: {c}" for c in outcome.failed_checks]
    lines += [f"failed: {r}" for r in outcome.failed_runs]
    return "\n".join(lines)


def submit_and_wait(
    client: DagsterGraphQL,
    request: BackfillRequest,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    poll_s: float = 2.0,
    out: Printer = print,
    driver: str = DRIVERS[0],
) -> BackfillOutcome:
    """Submit through GraphQL, print progress on change, and summarize the finished backfill.

    ``driver`` "daemon": one Dagster asset backfill, ordered by the daemon; "direct": this
    process launches each day's layers itself (``operate/direct.py``)."""
    nodes = client.asset_nodes()
    unknown = sorted(set(request.assets) - set(nodes))
    if unknown:
        raise BackfillInputError(
            f"unknown asset(s) {', '.join(unknown)} on {client.endpoint}; known: "
            f"{', '.join(sorted(nodes))}"
        )
    assets = list(request.assets or nodes)
    title = f"tardis-assets backfill {request.start}..{request.end}"
    started = time.monotonic()
    if driver == "direct":
        try:
            info, run_tag = run_direct(
                client,
                request.partition_names,
                assets,
                title=title,
                tags=dict(request.tags),
                timeout_s=timeout_s,
                out=out,
            )
        except PlanError as exc:
            raise BackfillInputError(str(exc)) from None
        return summarize(client, request, info, time.monotonic() - started, run_tag)
    if driver != "daemon":
        raise BackfillInputError(f"--driver {driver!r} is not one of {', '.join(DRIVERS)}")
    backfill_id = client.launch_backfill(
        request.partition_names, assets, title=title, tags=dict(request.tags)
    )
    out(
        f"submitted backfill {backfill_id}: {len(request.partition_names)} day(s) "
        f"{request.start}..{request.end} of {', '.join(assets)}"
    )
    last: tuple | None = None

    def progress(info: BackfillInfo) -> None:
        nonlocal last
        state = (info.status, tuple(sorted(info.counts.items())))
        if state != last:
            last = state
            done = sum(c[1] for c in info.counts.values())
            total = sum(c[0] for c in info.counts.values())
            running = sum(1 for r in info.runs if r.status not in ("SUCCESS", "FAILURE"))
            out(
                f"  {time.monotonic() - started:5.0f} s  {info.status.lower()}: {done}/{total} "
                f"asset partitions done, {running} run(s) active"
            )

    info = client.wait_backfill(backfill_id, timeout_s=timeout_s, poll_s=poll_s, on_poll=progress)
    return summarize(client, request, info, time.monotonic() - started)


def default_workspace(home: Path) -> Path:
    """./workspace.yaml when run from the repository, else one written next to the instance."""
    here = Path("workspace.yaml")
    if here.exists():
        return here.resolve()
    path = home / "backfill_workspace.yaml"
    path.write_text(
        "load_from:\n  - python_module:\n      module_name: tardis_assets.definitions\n"
        "      location_name: tardis_assets\n"
    )
    return path


def run_backfill(
    start: str,
    end: str,
    select: str | Sequence[str] | None,
    url: str | None,
    registry: Registry,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    out: Printer = print,
    batch: bool = False,
    driver: str = DRIVERS[0],
) -> BackfillOutcome:
    """Validate, submit to ``url`` (or a server on the default port, or a temporary one), wait.

    Without ``url`` and with nothing on the default port, a temporary ``dagster dev`` is started
    on DAGSTER_HOME (default data/.dagster_home) and TARDIS_DATA_DIR (default data), so the runs
    land in the same instance and warehouse `make ui` shows, and it is stopped afterwards.
    Raises BackfillInputError (nothing submitted) or BackfillFailed (after printing the table).
    """
    request = local_request(start, end, select, registry)
    if batch:
        request = dataclasses.replace(request, tags=((LLM_MODE_TAG, "batch"),))
    if url is not None:
        with DagsterGraphQL(url) as client:
            if not client.is_up():
                raise BackfillError(f"no Dagster webserver answers at {client.endpoint}")
            outcome = submit_and_wait(client, request, timeout_s=timeout_s, out=out, driver=driver)
    else:
        with DagsterGraphQL(DEFAULT_URL) as client:
            running = client.is_up()
            if running:
                out(f"using the Dagster webserver at {DEFAULT_URL}")
                outcome = submit_and_wait(
                    client, request, timeout_s=timeout_s, out=out, driver=driver
                )
        if not running:
            outcome = _with_temporary_server(request, timeout_s=timeout_s, out=out, driver=driver)
    out(format_outcome(outcome))
    if not outcome.succeeded:
        raise BackfillFailed(f"backfill {outcome.backfill_id} did not fully succeed (see above)")
    return outcome


def _with_temporary_server(
    request: BackfillRequest, *, timeout_s: float, out: Printer, driver: str
) -> BackfillOutcome:
    home = Path(os.environ.get("DAGSTER_HOME") or "data/.dagster_home").resolve()
    data = Path(os.environ.get("TARDIS_DATA_DIR") or "data").resolve()
    home.mkdir(parents=True, exist_ok=True)
    repo_yaml = Path("dagster.yaml")
    server = DevServer(
        dagster_home=home,
        data_dir=data,
        workspace=default_workspace(home),
        # Keep a user's instance configuration; seed it from the repository's when missing.
        dagster_yaml=(
            repo_yaml.resolve()
            if repo_yaml.exists() and not (home / "dagster.yaml").exists()
            else None
        ),
    )
    out(f"starting a temporary dagster dev (DAGSTER_HOME={home}, data {data}) ...")
    try:
        with server, DagsterGraphQL(server.url) as client:
            out(f"dagster dev ready on {server.url} (log {server.log_path})")
            return submit_and_wait(client, request, timeout_s=timeout_s, out=out, driver=driver)
    except DevServerError as exc:
        raise BackfillError(str(exc)) from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", required=True, help="first UTC day (YYYY-MM-DD)")
    parser.add_argument("--to", dest="end", required=True, help="last UTC day (YYYY-MM-DD)")
    parser.add_argument(
        "--select",
        default=None,
        help="comma-separated asset names (default: every day-partitioned asset)",
    )
    parser.add_argument(
        "--url",
        default=None,
        help=f"Dagster webserver (default: {DEFAULT_URL} if up, else a temporary dagster dev)",
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds to wait for the end"
    )
    parser.add_argument(
        "--batch",
        action="store_true",
        help="send the missing LLM requests through the provider's Batch API (half price); an "
        "interrupted batch resumes instead of paying twice",
    )
    parser.add_argument(
        "--driver",
        choices=DRIVERS,
        default=DRIVERS[0],
        help="daemon: a Dagster backfill, ordered by the daemon's 30 s loop and shown on the "
        "UI's backfill page; direct: this command launches each day's next layer as soon as "
        "the runs it needs succeed (runs tagged tardis/backfill=<id>; stopping the command "
        "stops launching)",
    )


def run_from_args(args: argparse.Namespace, registry: Registry, out: Printer = print) -> int:
    """The CLI entry: one clear line on stderr and a non-zero exit code on any error."""
    try:
        run_backfill(
            args.start,
            args.end,
            args.select,
            args.url,
            registry,
            timeout_s=args.timeout,
            out=out,
            batch=getattr(args, "batch", False),
            driver=getattr(args, "driver", DRIVERS[0]),
        )
    except BackfillError as exc:
        print(f"backfill: {exc}", file=sys.stderr)
        return exc.exit_code
    except (GraphQLError, TimeoutError) as exc:
        print(f"backfill: {exc}", file=sys.stderr)
        return 1
    return 0
