"""Warehouse table contracts (DESIGN.md section 2), one DDL per table.

The LLM ledger ``llm_calls`` is defined by the gateway itself (``lib.llm.LLM_CALLS_DDL``), and the
backtest report tables by the frames ``lib.backtest.reports`` returns (one column per metric).

Kept in one place so the writers, the readers (CLI, summary, costs) and the tests agree on names
and types. Every statement is idempotent (``IF NOT EXISTS``) and runs just before its writer's
transaction.
"""

from __future__ import annotations

RAW_FILES = """
CREATE TABLE IF NOT EXISTS raw_files (
    data_type VARCHAR, exchange VARCHAR, symbol VARCHAR, date DATE,
    source VARCHAR,            -- 'file' (tardis input) or 'synthetic'
    input_path VARCHAR, lake_path VARCHAR, rows BIGINT,
    min_timestamp BIGINT, max_timestamp BIGINT, ingested_at TIMESTAMPTZ
)"""

NEWS = """
CREATE TABLE IF NOT EXISTS news (
    date DATE, published_at TIMESTAMPTZ, headline VARCHAR, source VARCHAR, symbols VARCHAR[]
)"""

BARS = """
CREATE TABLE IF NOT EXISTS bars (
    exchange VARCHAR, symbol VARCHAR, bar_start TIMESTAMPTZ,
    open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE, vwap DOUBLE, trades BIGINT,
    buy_volume DOUBLE, sell_volume DOUBLE, imbalance DOUBLE,
    ret_1 DOUBLE, rsi_14 DOUBLE, macd DOUBLE, macd_signal DOUBLE, macd_hist DOUBLE,
    volatility_30 DOUBLE,
    spread_mean DOUBLE, spread_close DOUBLE, mid_mean DOUBLE, mid_close DOUBLE,
    book_imbalance_mean DOUBLE, book_imbalance_close DOUBLE, funding_rate DOUBLE,
    open_interest DOUBLE
)"""

LLM_SIGNALS = """
CREATE TABLE IF NOT EXISTS llm_signals (
    exchange VARCHAR, symbol VARCHAR, bar_start TIMESTAMPTZ, kind VARCHAR,
    value DOUBLE, confidence DOUBLE, label VARCHAR, status VARCHAR,
    model VARCHAR, model_cutoff DATE, available_at TIMESTAMPTZ, request_hash VARCHAR
)"""

# One row per (date, kind, model), replaced by each materialization of that (date, kind): what the
# latest run needed (HTTP calls, cache hits, cost) and what its cache hits would have cost.
LLM_PARTITION_STATS = """
CREATE TABLE IF NOT EXISTS llm_partition_stats (
    date DATE, kind VARCHAR, model VARCHAR, provider VARCHAR, requests BIGINT, ok BIGINT,
    failed BIGINT, cache_hits BIGINT, http_calls BIGINT, not_sent BIGINT, cost_usd DOUBLE,
    cache_savings_usd DOUBLE, tokens_in BIGINT, tokens_out BIGINT, latency_p50_ms DOUBLE,
    latency_p95_ms DOUBLE, materialized_at TIMESTAMPTZ
)"""
