"""The signal layer's tables: one column definition each, from which DDL and polars schema follow.

- `llm_signals`: one row per (instrument, window, kind) of a day, partitioned by (date, kind).
  Every window has a row, asked or not; `reason` says why (planning.REASONS), `fresh` whether the
  row carries an answer obtained for this window, `answer_bar_start` which window's answer is in
  effect (pattern/risk between asks). Rows that are not asked have `available_at` null (the
  backtest keeps the answer in effect), except `no_news` rows, whose "no view" is known at the
  window's end and replaces an older sentiment.
- `llm_partition_stats`: one row per model of the kind's route per run, partitioned by (date,
  kind, run_id): two runs of one partition keep both rows. It holds the facts the failure
  sentence needs (counts per status, breaker state, last provider error, budgets, cutoffs).
- `llm_calls`: the ledger, one row per call sent (journal.JournalRow is its definition),
  partitioned by (day, kind) and rebuilt from the cache's journal (ledger.py).
"""

from __future__ import annotations

import dataclasses

from tardis_assets.lib.llm.journal import JournalRow
from tardis_assets.lib.storage.schema import Col, Table

LLM_SIGNALS = Table(
    "llm_signals",
    {
        "date": Col.DATE,
        "exchange": Col.TEXT,
        "symbol": Col.TEXT,
        "bar_start": Col.TIME,
        "kind": Col.TEXT,
        "value": Col.FLOAT,
        "confidence": Col.FLOAT,
        "label": Col.TEXT,
        "status": Col.TEXT,
        "model": Col.TEXT,
        "model_cutoff": Col.DATE,
        "available_at": Col.TIME,
        "request_hash": Col.TEXT,
        "fresh": Col.BOOL,
        "reason": Col.TEXT,
        "answer_bar_start": Col.TIME,
        "headlines": Col.INT32,
    },
    partition_by=("date", "kind"),
    description="LLM signal per window and kind; every window has a row, asked or not",
)

_STATUS_COUNTS = (
    "parse_error",
    "provider_error",
    "breaker_open",
    "budget_exhausted",
    "lookahead_refused",
    "replay_miss",
)

LLM_PARTITION_STATS = Table(
    "llm_partition_stats",
    {
        "date": Col.DATE,
        "kind": Col.TEXT,
        "run_id": Col.TEXT,
        "model": Col.TEXT,
        "provider": Col.TEXT,
        "design": Col.TEXT,
        "transport": Col.TEXT,
        "windows": Col.INT,
        "asked_windows": Col.INT,
        "requests": Col.INT,  # questions attributed to this model (answerer, else primary)
        "ok": Col.INT,
        "failed": Col.INT,
        **{status: Col.INT for status in _STATUS_COUNTS},
        "cache_hits": Col.INT,
        "waited": Col.INT,
        "http_calls": Col.INT,  # HTTP attempts this run sent to the model
        "calls": Col.INT,  # ledger rows this run wrote for the model
        "not_sent": Col.INT,
        "cost_usd": Col.FLOAT,
        "cache_savings_usd": Col.FLOAT,
        "tokens_in": Col.INT,
        "tokens_cached": Col.INT,
        "tokens_out": Col.INT,
        "latency_p50_ms": Col.FLOAT,
        "latency_p95_ms": Col.FLOAT,
        "chain_position": Col.INT32,
        "model_cutoff": Col.DATE,
        "breaker_state": Col.TEXT,
        "breaker_opened": Col.INT,
        "last_error": Col.TEXT,
        "budget_run_usd": Col.FLOAT,
        "budget_day_usd": Col.FLOAT,
        "allow_in_sample": Col.BOOL,
        "estimate_usd": Col.FLOAT,
        "materialized_at": Col.TIME,
    },
    partition_by=("date", "kind", "run_id"),
    description="what one run of a (date, kind) partition asked, sent, paid and why it failed",
)

STATUS_COUNTS = _STATUS_COUNTS

_COL_OF_TYPE = {
    "str": Col.TEXT,
    "str | None": Col.TEXT,
    "int": Col.INT,
    "float": Col.FLOAT,
    "bool": Col.BOOL,
    "date": Col.DATE,
    "tuple[str, ...]": Col.TEXT_LIST,
}

LLM_CALLS = Table(
    "llm_calls",
    {f.name: _COL_OF_TYPE[str(f.type)] for f in dataclasses.fields(JournalRow)},
    partition_by=("day", "kind"),
    description="the ledger: one row per call sent to a provider, with everything it cost",
)

TABLES = (LLM_SIGNALS, LLM_PARTITION_STATS, LLM_CALLS)
