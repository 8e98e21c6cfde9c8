"""A small client for the Dagster webserver's GraphQL API (dagster 1.13 schema).

Why our own and not ``dagster_graphql.DagsterGraphQLClient``: that client launches job runs, not
asset backfills, and reads neither check results nor materialization metadata. Every query here
was written against the schema of the installed ``dagster_graphql`` package.

An asset backfill is given as asset keys plus ``partitionNames`` of the daily dimension: a range
given per asset (``partitionsByAssets``) to the date x kind signals asset was silently dropped,
while daily names expand to every kind through the partition mapping.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

DEFAULT_TIMEOUT_S = 30.0
TERMINAL_BACKFILL = frozenset(
    {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
)
BACKFILL_TAG = "dagster/backfill"  # on every run a Dagster backfill launches
PARTITION_TAG = "dagster/partition"  # on a run of one partition
ASSET_JOB = "__ASSET_JOB"  # the implicit job of every asset of a code location
FINISHED_RUN = frozenset({"SUCCESS", "FAILURE", "CANCELED"})
ACTIVE_RUN = frozenset({"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"})


class GraphQLError(RuntimeError):
    """The server answered with errors, or with a typed error result (message says which)."""


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    status: str
    job_name: str
    partition: str | None
    assets: tuple[str, ...]
    tags: dict[str, str]
    start_time: float | None = None  # epoch seconds; None while queued
    end_time: float | None = None


@dataclass(frozen=True)
class BackfillInfo:
    backfill_id: str
    status: str
    partition_names: tuple[str, ...]
    runs: tuple[RunInfo, ...]
    # asset key -> (targeted, materialized, failed, in progress)
    counts: dict[str, tuple[int, int, int, int]]
    error: str | None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_BACKFILL and all(r.status in FINISHED_RUN for r in self.runs)

    @property
    def succeeded(self) -> bool:
        return (
            self.status in ("COMPLETED", "COMPLETED_SUCCESS")
            and self.error is None
            and all(r.status == "SUCCESS" for r in self.runs)
            and all(c[2] == 0 and c[1] == c[0] for c in self.counts.values())
        )


@dataclass(frozen=True)
class CheckExecution:
    check_name: str
    asset: str
    partition: str | None
    status: str
    passed: bool | None
    run_id: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Materialization:
    asset: str
    partition: str | None
    run_id: str
    metadata: dict[str, Any]


_RUN_FIELDS = """
  runId status jobName startTime endTime
  tags { key value }
  assetSelection { path }
"""

_METADATA_FIELDS = """
  label
  __typename
  ... on FloatMetadataEntry { floatValue }
  ... on IntMetadataEntry { intValue intRepr }
  ... on TextMetadataEntry { text }
  ... on BoolMetadataEntry { boolValue }
  ... on JsonMetadataEntry { jsonString }
  ... on MarkdownMetadataEntry { mdStr }
  ... on PathMetadataEntry { path }
"""

_ERROR_FIELDS = """
  __typename
  ... on Error { message }
  ... on PythonError { message stack }
"""


def _key(path: Sequence[str]) -> str:
    return "/".join(path)


def _key_input(asset: str) -> dict[str, list[str]]:
    return {"path": asset.split("/")}


def metadata_dict(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """GraphQL metadata entries as plain values (numbers stay numbers)."""
    out: dict[str, Any] = {}
    for entry in entries:
        kind = entry.get("__typename")
        if kind == "FloatMetadataEntry":
            value: Any = entry.get("floatValue")
        elif kind == "IntMetadataEntry":
            value = entry.get("intValue")
            if value is None and entry.get("intRepr") is not None:
                value = int(entry["intRepr"])
        else:
            value = next(
                (
                    entry[k]
                    for k in ("text", "boolValue", "jsonString", "mdStr", "path")
                    if k in entry
                ),
                None,
            )
        out[entry["label"]] = value
    return out


def _run_info(raw: dict[str, Any]) -> RunInfo:
    tags = {t["key"]: t["value"] for t in raw.get("tags") or []}
    return RunInfo(
        run_id=raw["runId"],
        status=raw["status"],
        job_name=raw["jobName"],
        partition=tags.get(PARTITION_TAG),
        assets=tuple(_key(a["path"]) for a in raw.get("assetSelection") or []),
        tags=tags,
        start_time=raw.get("startTime"),
        end_time=raw.get("endTime"),
    )


class DagsterGraphQL:
    """Talks to one webserver; owns an httpx client (use as a context manager)."""

    def __init__(self, url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        base = url.rstrip("/")
        self.endpoint = base if base.endswith("/graphql") else f"{base}/graphql"
        self._http = httpx.Client(timeout=timeout_s)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DagsterGraphQL:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one query or mutation; transport errors and GraphQL errors raise."""
        try:
            answer = self._http.post(
                self.endpoint, json={"query": document, "variables": variables or {}}
            )
        except httpx.TransportError as exc:
            raise GraphQLError(f"no Dagster webserver answers at {self.endpoint}: {exc}") from exc
        if answer.status_code != 200:
            raise GraphQLError(
                f"{self.endpoint} answered HTTP {answer.status_code}: {answer.text[:500]}"
            )
        payload = answer.json()
        if payload.get("errors"):
            messages = "; ".join(e.get("message", str(e)) for e in payload["errors"])
            raise GraphQLError(f"GraphQL errors from {self.endpoint}: {messages}")
        return payload["data"]

    def is_up(self) -> bool:
        try:
            self.query("{ version }")
        except GraphQLError:
            return False
        return True

    # -- definitions -------------------------------------------------------------------------

    def asset_nodes(self) -> dict[str, dict[str, Any]]:
        """Asset key -> node facts (group, partitioned, dependencies, checks, backfill policy)."""
        data = self.query(
            """query AssetNodes {
                 assetNodes {
                   assetKey { path } groupName isPartitioned
                   dependencyKeys { path }
                   partitionDefinition { type dimensionTypes { name type } }
                   partitionKeysByDimension { name type partitionKeys }
                   backfillPolicy { policyType maxPartitionsPerRun }
                   repository { name location { name } }
                   assetChecksOrError {
                     __typename
                     ... on AssetChecks { checks { name blocking } }
                   }
                 }
               }"""
        )
        nodes = {}
        for node in data["assetNodes"]:
            checks = (node.get("assetChecksOrError") or {}).get("checks") or []
            # Keys per day: the product of the non-time dimensions (3 kinds for date x kind).
            per_day = 1
            # A multi-partition key joins its dimensions' keys ordered by dimension name.
            key_dims: list[tuple[str, list[str] | None]] = []
            if (node.get("partitionDefinition") or {}).get("type") == "MULTIPARTITIONED":
                dims = node.get("partitionKeysByDimension") or []
                for dim in sorted(dims, key=lambda d: d["name"]):
                    static = dim["type"] != "TIME_WINDOW"
                    key_dims.append((dim["name"], dim["partitionKeys"] if static else None))
                    if static:
                        per_day *= len(dim["partitionKeys"])
            nodes[_key(node["assetKey"]["path"])] = {
                "group": node["groupName"],
                "partitioned": node["isPartitioned"],
                "deps": sorted(_key(k["path"]) for k in node["dependencyKeys"]),
                "dimensions": [
                    d["name"]
                    for d in (node.get("partitionDefinition") or {}).get("dimensionTypes") or []
                ],
                "backfill_policy": (node.get("backfillPolicy") or {}).get("policyType"),
                "keys_per_day": per_day,
                # (dimension, its keys in definition order; None for the day) per key part
                "key_dims": key_dims,
                "repository": (node["repository"]["location"]["name"], node["repository"]["name"]),
                "checks": {c["name"]: c["blocking"] for c in checks},
            }
        return nodes

    # -- backfills ---------------------------------------------------------------------------

    def launch_backfill(
        self,
        partition_names: Sequence[str],
        assets: Sequence[str],
        *,
        title: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> str:
        """Submit an asset backfill (the daemon executes it); returns the backfill id."""
        params: dict[str, Any] = {
            "partitionNames": list(partition_names),
            "assetSelection": [_key_input(a) for a in assets],
            "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
        }
        if title:
            params["title"] = title
        data = self.query(
            f"""mutation Launch($params: LaunchBackfillParams!) {{
                  launchPartitionBackfill(backfillParams: $params) {{
                    __typename
                    ... on LaunchBackfillSuccess {{ backfillId }}
                    {_ERROR_FIELDS}
                  }}
                }}""",
            {"params": params},
        )
        result = data["launchPartitionBackfill"]
        if result["__typename"] != "LaunchBackfillSuccess":
            raise GraphQLError(
                f"backfill of {list(assets)} for {list(partition_names)} refused: "
                f"{result['__typename']}: {result.get('message', '')}"
            )
        return result["backfillId"]

    def launch_run(
        self, repository: tuple[str, str], assets: Sequence[str], tags: dict[str, str]
    ) -> str:
        """Submit one run of ``assets`` (with their checks) to the run queue; returns its id.

        ``repository`` is (code location, repository name) as ``asset_nodes`` reports them; the
        partition (or partition range) is given by Dagster's tags in ``tags``."""
        params = {
            "selector": {
                "repositoryLocationName": repository[0],
                "repositoryName": repository[1],
                "jobName": ASSET_JOB,
                "assetSelection": [_key_input(a) for a in assets],
            },
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        }
        data = self.query(
            f"""mutation LaunchRun($params: ExecutionParams!) {{
                  launchRun(executionParams: $params) {{
                    __typename
                    ... on LaunchRunSuccess {{ run {{ runId }} }}
                    ... on RunConfigValidationInvalid {{ errors {{ message }} }}
                    {_ERROR_FIELDS}
                  }}
                }}""",
            {"params": params},
        )
        result = data["launchRun"]
        if result["__typename"] != "LaunchRunSuccess":
            detail = result.get("message") or "; ".join(
                e["message"] for e in result.get("errors") or []
            )
            raise GraphQLError(
                f"run of {list(assets)} with {tags} refused: {result['__typename']}: {detail}"
            )
        return result["run"]["runId"]

    def _partition_backfill(self, backfill_id: str, fields: str) -> dict[str, Any]:
        """``fields`` of one backfill; a missing or failed lookup raises GraphQLError."""
        data = self.query(
            f"""query Backfill($id: String!) {{
                  partitionBackfillOrError(backfillId: $id) {{
                    __typename
                    ... on PartitionBackfill {{ {fields} }}
                    {_ERROR_FIELDS}
                  }}
                }}""",
            {"id": backfill_id},
        )
        raw = data["partitionBackfillOrError"]
        if raw["__typename"] != "PartitionBackfill":
            raise GraphQLError(f"backfill {backfill_id}: {raw['__typename']}: {raw.get('message')}")
        return raw

    def backfill(self, backfill_id: str) -> BackfillInfo:
        raw = self._partition_backfill(
            backfill_id,
            f"""id status partitionNames
                error {{ message }}
                runs {{ {_RUN_FIELDS} }}
                assetBackfillData {{
                  assetBackfillStatuses {{
                    __typename
                    ... on AssetPartitionsStatusCounts {{
                      assetKey {{ path }} numPartitionsTargeted numPartitionsInProgress
                      numPartitionsMaterialized numPartitionsFailed
                    }}
                  }}
                }}""",
        )
        counts = {}
        for status in (raw.get("assetBackfillData") or {}).get("assetBackfillStatuses") or []:
            if status["__typename"] == "AssetPartitionsStatusCounts":
                counts[_key(status["assetKey"]["path"])] = (
                    status["numPartitionsTargeted"],
                    status["numPartitionsMaterialized"],
                    status["numPartitionsFailed"],
                    status["numPartitionsInProgress"],
                )
        return BackfillInfo(
            backfill_id=raw["id"],
            status=raw["status"],
            partition_names=tuple(raw.get("partitionNames") or ()),
            runs=tuple(_run_info(r) for r in raw["runs"]),
            counts=counts,
            error=(raw.get("error") or {}).get("message"),
        )

    def backfill_status(self, backfill_id: str) -> str:
        """Only the backfill's status: a query the webserver answers without reading runs or
        partition statuses, cheap enough to poll every second or two."""
        return self._partition_backfill(backfill_id, "status")["status"]

    def wait_backfill(
        self,
        backfill_id: str,
        *,
        timeout_s: float = 600.0,
        poll_s: float = 1.0,
        detail_s: float = 10.0,
        on_poll: Callable[[BackfillInfo], None] | None = None,
    ) -> BackfillInfo:
        """Poll until the backfill and all its runs are finished; TimeoutError names the state.

        The status alone is polled every ``poll_s``; the whole state (runs, per-asset counts,
        which costs the webserver and PostgreSQL a query per run and asset) every ``detail_s``
        and once the status is terminal. On a cluster the control plane shares the machine
        with the steps it waits for."""
        deadline = time.monotonic() + timeout_s
        detailed_at = -float("inf")
        while True:
            status = self.backfill_status(backfill_id)
            now = time.monotonic()
            if status in TERMINAL_BACKFILL or now - detailed_at >= detail_s:
                detailed_at = now
                info = self.backfill(backfill_id)
                if on_poll is not None:
                    on_poll(info)
                if info.finished:
                    return info
            if now > deadline:
                info = self.backfill(backfill_id)
                raise TimeoutError(
                    f"backfill {backfill_id} still {info.status} after {timeout_s:.0f} s; runs: "
                    + ", ".join(f"{r.job_name}[{r.partition}]={r.status}" for r in info.runs)
                )
            time.sleep(poll_s)

    # -- runs, events, checks, materializations ----------------------------------------------

    def runs(
        self,
        *,
        backfill_id: str | None = None,
        tag: tuple[str, str] | None = None,
        limit: int = 500,
    ) -> list[RunInfo]:
        """Runs, newest first; only those launched by ``backfill_id`` (a Dagster backfill) or
        carrying ``tag`` when given."""
        flt: dict[str, Any] = {}
        if backfill_id:
            tag = (BACKFILL_TAG, backfill_id)
        if tag is not None:
            flt["tags"] = [{"key": tag[0], "value": tag[1]}]
        data = self.query(
            f"""query Runs($filter: RunsFilter, $limit: Int) {{
                  runsOrError(filter: $filter, limit: $limit) {{
                    __typename
                    ... on Runs {{ results {{ {_RUN_FIELDS} }} }}
                    {_ERROR_FIELDS}
                  }}
                }}""",
            {"filter": flt, "limit": limit},
        )
        raw = data["runsOrError"]
        if raw["__typename"] != "Runs":
            raise GraphQLError(f"runs: {raw['__typename']}: {raw.get('message')}")
        return [_run_info(r) for r in raw["results"]]

    def active_runs(self) -> list[RunInfo]:
        """Runs queued or executing: the warehouse may have a writer while any exists."""
        data = self.query(
            f"""query Active($filter: RunsFilter) {{
                  runsOrError(filter: $filter) {{
                    __typename
                    ... on Runs {{ results {{ {_RUN_FIELDS} }} }}
                    {_ERROR_FIELDS}
                  }}
                }}""",
            {"filter": {"statuses": sorted(ACTIVE_RUN)}},
        )
        raw = data["runsOrError"]
        if raw["__typename"] != "Runs":
            raise GraphQLError(f"runs: {raw['__typename']}: {raw.get('message')}")
        return [_run_info(r) for r in raw["results"]]

    def run_errors(self, run_id: str) -> list[str]:
        """Messages and error texts of failure/retry events of a run (to look for lock errors)."""
        messages: list[str] = []
        cursor: str | None = None
        while True:
            data = self.query(
                """query Logs($runId: ID!, $cursor: String) {
                     logsForRun(runId: $runId, afterCursor: $cursor) {
                       __typename
                       ... on EventConnection {
                         cursor hasMore
                         events {
                           __typename
                           ... on MessageEvent { message level }
                           ... on ErrorEvent { error { message } }
                         }
                       }
                     }
                   }""",
                {"runId": run_id, "cursor": cursor},
            )
            conn = data["logsForRun"]
            if conn["__typename"] != "EventConnection":
                raise GraphQLError(f"logs of run {run_id}: {conn['__typename']}")
            for event in conn["events"]:
                error = (event.get("error") or {}).get("message")
                if error or event.get("level") in ("ERROR", "CRITICAL", "WARNING"):
                    messages.append(f"{event['__typename']}: {event.get('message')} {error or ''}")
            if not conn["hasMore"]:
                return messages
            cursor = conn["cursor"]

    def check_executions(
        self, asset: str, check_name: str, *, limit: int = 200
    ) -> list[CheckExecution]:
        """Executions of one asset check over all partitions, newest first."""
        data = self.query(
            f"""query Checks($asset: AssetKeyInput!, $name: String!, $limit: Int!) {{
                  assetCheckExecutions(assetKey: $asset, checkName: $name, limit: $limit) {{
                    runId status partition
                    evaluation {{ success metadataEntries {{ {_METADATA_FIELDS} }} }}
                  }}
                }}""",
            {"asset": _key_input(asset), "name": check_name, "limit": limit},
        )
        out = []
        for raw in data["assetCheckExecutions"]:
            evaluation = raw.get("evaluation") or {}
            out.append(
                CheckExecution(
                    check_name=check_name,
                    asset=asset,
                    partition=raw.get("partition"),
                    status=raw["status"],
                    passed=evaluation.get("success"),
                    run_id=raw["runId"],
                    metadata=metadata_dict(evaluation.get("metadataEntries") or []),
                )
            )
        return out

    def materializations(self, asset: str, *, limit: int = 500) -> list[Materialization]:
        """Materialization events of an asset, newest first, with metadata as plain values."""
        data = self.query(
            f"""query Mats($asset: AssetKeyInput!, $limit: Int) {{
                  assetNodes(assetKeys: [$asset]) {{
                    assetMaterializations(limit: $limit) {{
                      runId partition metadataEntries {{ {_METADATA_FIELDS} }}
                    }}
                  }}
                }}""",
            {"asset": _key_input(asset), "limit": limit},
        )
        nodes = data["assetNodes"]
        if not nodes:
            raise GraphQLError(f"unknown asset {asset!r}")
        return [
            Materialization(
                asset=asset,
                partition=m.get("partition"),
                run_id=m["runId"],
                metadata=metadata_dict(m["metadataEntries"]),
            )
            for m in nodes[0]["assetMaterializations"]
        ]

    def materialized_partitions(self, asset: str) -> set[str]:
        """Partition keys with at least one materialization (multi keys as Dagster prints them)."""
        return {m.partition for m in self.materializations(asset) if m.partition is not None}
