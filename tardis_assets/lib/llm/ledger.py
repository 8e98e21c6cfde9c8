"""The `llm_calls` ledger: column layout for DuckDB and the cost/latency summary.

The lead's asset writes `GatewayReport.ledger` rows with `ledger_frame(rows)` into a table created
from `LLM_CALLS_DDL`; `stats_table(rows)` renders `tardis-assets llm stats` from rows read back
(`SELECT * FROM llm_calls`, as dicts or LedgerRow objects).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from tardis_assets.lib.llm.contracts import LedgerRow

if TYPE_CHECKING:
    import polars as pl

# Column -> DuckDB type. Order = LedgerRow field order.
LLM_CALLS_COLUMNS: dict[str, str] = {
    "request_hash": "VARCHAR",
    "kind": "VARCHAR",
    "provider": "VARCHAR",
    "model_requested": "VARCHAR",
    "model_returned": "VARCHAR",
    "tokens_in": "BIGINT",
    "tokens_out": "BIGINT",
    "cost_usd": "DOUBLE",
    "estimated": "BOOLEAN",
    "latency_ms": "DOUBLE",
    "attempts": "INTEGER",
    "cache_hit": "BOOLEAN",
    "status": "VARCHAR",
    "error": "VARCHAR",
    "requested_at_us": "BIGINT",
    "day": "DATE",
}

LLM_CALLS_DDL = (
    "CREATE TABLE IF NOT EXISTS llm_calls (\n    "
    + ",\n    ".join(f"{name} {sqltype}" for name, sqltype in LLM_CALLS_COLUMNS.items())
    + "\n)"
)


def ledger_frame(rows: Iterable[LedgerRow]) -> pl.DataFrame:
    """Ledger rows as a typed polars frame (columns exactly LLM_CALLS_COLUMNS)."""
    import polars as pl  # imported here: the gateway itself does not need polars

    types = {
        "VARCHAR": pl.Utf8,
        "BIGINT": pl.Int64,
        "INTEGER": pl.Int32,
        "DOUBLE": pl.Float64,
        "BOOLEAN": pl.Boolean,
        "DATE": pl.Date,
    }
    data = [dataclasses.asdict(r) for r in rows]
    schema = {name: types[sqltype] for name, sqltype in LLM_CALLS_COLUMNS.items()}
    return pl.DataFrame(data, schema=schema, orient="row") if data else pl.DataFrame(schema=schema)


def _pct(sorted_vals: list[float], q: float) -> float:
    if not sorted_vals:
        return float("nan")
    idx = min(len(sorted_vals) - 1, max(0, round(q * (len(sorted_vals) - 1))))
    return sorted_vals[idx]


def stats_table(rows: Iterable[LedgerRow | Mapping[str, Any]]) -> str:
    """Calls, cost, cache hits, failures and p50/p95 latency (sent calls) by kind and model."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for row in rows:
        rec = dataclasses.asdict(row) if isinstance(row, LedgerRow) else row
        model = rec.get("model_returned") or rec.get("model_requested") or "-"
        groups.setdefault((str(rec["kind"]), str(model)), []).append(rec)
    header = (
        "kind",
        "model",
        "calls",
        "cache_hits",
        "failed",
        "tokens",
        "cost_usd",
        "p50_ms",
        "p95_ms",
    )
    lines = [header]
    tot_calls = tot_hits = tot_failed = 0
    tot_cost = 0.0
    for (kind, model), recs in sorted(groups.items()):
        sent = sorted(float(r["latency_ms"]) for r in recs if not r["cache_hit"] and r["attempts"])
        calls = len(recs)
        hits = sum(1 for r in recs if r["cache_hit"])
        failed = sum(1 for r in recs if r["status"] != "ok")
        tokens = sum(int(r["tokens_in"]) + int(r["tokens_out"]) for r in recs)
        cost = sum(float(r["cost_usd"]) for r in recs)
        tot_calls, tot_hits, tot_failed, tot_cost = (
            tot_calls + calls,
            tot_hits + hits,
            tot_failed + failed,
            tot_cost + cost,
        )
        lines.append(
            (
                kind,
                model,
                str(calls),
                str(hits),
                str(failed),
                str(tokens),
                f"{cost:.6f}",
                f"{_pct(sent, 0.5):.1f}",
                f"{_pct(sent, 0.95):.1f}",
            )
        )
    lines.append(
        ("total", "", str(tot_calls), str(tot_hits), str(tot_failed), "", f"{tot_cost:.6f}", "", "")
    )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )
