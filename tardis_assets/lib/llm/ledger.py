"""The `llm_calls` ledger: column layout for DuckDB and the cost/latency summary.

The llm_signals asset writes the paid rows of `GatewayReport.ledger` with `ledger_frame(rows)` into
a table created from `LLM_CALLS_DDL`; `tardis-assets llm stats` reads it back with SQL
(`lib/costs.py`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING

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
