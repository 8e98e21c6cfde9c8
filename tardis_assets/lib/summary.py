"""The run summary, read back from the warehouse (not from in-memory state), so it reports what is
actually stored: a second run that changed nothing prints the same tables.

Two tables: one row per instrument and day for the market and the backtest (ticks, bars, trades,
PnL, Sharpe), and one row per day for the LLM layer, whose calls serve every instrument of a day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import polars as pl

from tardis_assets.lib.warehouse import Warehouse

INSTRUMENT_SQL = """
WITH days AS (SELECT unnest(?::DATE[]) AS date),
ticks AS (SELECT date, exchange, symbol, sum(rows) AS ticks, string_agg(DISTINCT source, ',')
              AS source
          FROM raw_files WHERE data_type = 'trades' GROUP BY ALL),
b AS (SELECT date, exchange, symbol, count(*) AS bars FROM bars GROUP BY ALL),
bt AS (SELECT date, exchange, symbol, CAST(sum(n_trades) AS BIGINT) AS trades,
              avg(total_return) AS pnl, avg(sharpe) AS sharpe
       FROM backtest_summary WHERE run_id = ? GROUP BY ALL),
tick AS ({tick_sql})
SELECT days.date, ticks.exchange, ticks.symbol, ticks.source, coalesce(ticks.ticks, 0) AS ticks,
       coalesce(b.bars, 0) AS bars, coalesce(bt.trades, 0) AS trades, bt.pnl, bt.sharpe,
       tick.fills AS tick_fills, tick.pnl AS tick_pnl, tick.sharpe AS tick_sharpe
FROM days JOIN ticks USING (date)
LEFT JOIN b USING (date, exchange, symbol) LEFT JOIN bt USING (date, exchange, symbol)
LEFT JOIN tick USING (date, exchange, symbol)
ORDER BY days.date, ticks.exchange, ticks.symbol
"""
# The tick-level replay of the same strategy (execution_summary), when it was materialized.
TICK_SQL = """SELECT date, exchange, symbol, sum(n_fills) AS fills, avg(total_return) AS pnl,
                     avg(sharpe) AS sharpe
              FROM execution_summary WHERE run_id = ? GROUP BY ALL"""
NO_TICKS = """SELECT NULL::DATE AS date, NULL AS exchange, NULL AS symbol, NULL::BIGINT AS fills,
                     NULL::DOUBLE AS pnl, NULL::DOUBLE AS sharpe WHERE false"""

# What each day's signals cost: the ledger (every call ever paid for the day's partitions, by
# any run or process), and what the latest run of each partition needed and found cached.
DAY_SQL = """
WITH days AS (SELECT unnest(?::DATE[]) AS date),
paid AS (SELECT day AS date, count(*) AS paid_calls, sum(cost_usd) AS cost_usd
         FROM llm_calls GROUP BY ALL),
latest AS (SELECT date, sum(http_calls) AS run_http, sum(cache_hits) AS cache_hits,
                  sum(cache_savings_usd) AS saved_usd
           FROM llm_partition_latest GROUP BY date)
SELECT days.date, coalesce(paid.paid_calls, 0) AS llm_calls, coalesce(paid.cost_usd, 0) AS cost_usd,
       coalesce(latest.run_http, 0) AS run_http, coalesce(latest.cache_hits, 0) AS cache_hits,
       coalesce(latest.saved_usd, 0) AS saved_usd
FROM days LEFT JOIN paid USING (date) LEFT JOIN latest USING (date) ORDER BY days.date
"""


def instrument_summary(
    warehouse: Warehouse, days: Sequence[date], run_id: str, tick_run_id: str | None = None
) -> pl.DataFrame:
    """One row per instrument and day: ticks, bars, the default strategy's bar backtest and,
    when ``tick_run_id`` names a stored replay, the same strategy at tick level."""
    if tick_run_id and warehouse.table_exists("execution_summary"):
        sql = INSTRUMENT_SQL.replace("{tick_sql}", TICK_SQL)
        return warehouse.read(sql, [list(days), run_id, tick_run_id])
    return warehouse.read(INSTRUMENT_SQL.replace("{tick_sql}", NO_TICKS), [list(days), run_id])


def day_summary(warehouse: Warehouse, days: Sequence[date]) -> pl.DataFrame:
    """One row per day: the calls the day's signals were paid with (ledger) and their cost, and
    what the latest runs sent and served from the cache."""
    return warehouse.read(DAY_SQL, [list(days)])


Formatter = Callable[[object], str]


def _dash(fmt: str) -> Formatter:
    """Format a value, or "-" when there is none."""
    return lambda v: "-" if v is None else fmt.format(v)


INSTRUMENT_COLUMNS: tuple[tuple[str, str, Formatter], ...] = (
    ("day", "date", _dash("{}")),
    ("instrument", "instrument", _dash("{}")),
    ("source", "source", _dash("{}")),
    ("ticks", "ticks", _dash("{:,}")),
    ("bars", "bars", _dash("{:,}")),
    ("trades", "trades", _dash("{:,}")),
    ("PnL", "pnl", _dash("{:+.2%}")),
    ("Sharpe", "sharpe", _dash("{:.2f}")),
    ("tick fills", "tick_fills", _dash("{:,}")),
    ("tick PnL", "tick_pnl", _dash("{:+.2%}")),
    ("tick Sharpe", "tick_sharpe", _dash("{:.2f}")),
)
DAY_COLUMNS: tuple[tuple[str, str, Formatter], ...] = (
    ("day", "date", _dash("{}")),
    ("LLM calls", "llm_calls", _dash("{:,}")),
    ("cost USD", "cost_usd", _dash("{:.4f}")),
    ("last run HTTP", "run_http", _dash("{:,}")),
    ("cache hits", "cache_hits", _dash("{:,}")),
    ("saved USD", "saved_usd", _dash("{:.4f}")),
)


def format_table(frame: pl.DataFrame, columns: Sequence[tuple[str, str, Formatter]]) -> str:
    """A plain fixed-width table (no dependency, readable in CI logs)."""
    if "exchange" in frame.columns:
        frame = frame.with_columns(
            instrument=pl.concat_str("exchange", pl.lit(":"), "symbol").fill_null("-")
        )
    headers = [h for h, _, _ in columns]
    rows = [[fmt(r[key]) for _, key, fmt in columns] for r in frame.iter_rows(named=True)]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def summary_text(
    warehouse: Warehouse, days: Sequence[date], run_id: str, tick_run_id: str | None = None
) -> str:
    """Both tables, as the demo and `tardis-assets summary` print them."""
    return "\n\n".join(
        [
            format_table(
                instrument_summary(warehouse, days, run_id, tick_run_id), INSTRUMENT_COLUMNS
            ),
            format_table(day_summary(warehouse, days), DAY_COLUMNS),
        ]
    )


# What the LLM's latency is worth over the demo's range: the tick replay's PnL per model latency
# (10 ms each way on the wire), one line per instrument, from the latency_study table.
LATENCY_SQL = """
SELECT range, model_latency, pnl, implementation_shortfall_bps AS shortfall_bps
FROM latency_study WHERE order_latency_ms = 10 AND range LIKE '%' || ?
ORDER BY range, model_latency <> 'measured', model_latency_ms
"""


def latency_lines(warehouse: Warehouse, days: Sequence[date]) -> list[str]:
    """``latency study <range>: PnL measured .. | 47 ms .. | ...`` when the study was stored."""
    if not days or not warehouse.table_exists("latency_study"):
        return []
    rows = warehouse.read(LATENCY_SQL, [f" {min(days)}..{max(days)}"])
    lines = []
    for (label,), group in rows.group_by("range", maintain_order=True):
        cells = " | ".join(
            f"{r['model_latency']} {r['pnl']:,.0f} ({r['shortfall_bps']:.2f} bps)"
            for r in group.iter_rows(named=True)
        )
        lines.append(f"latency study {label}, tick PnL by model latency (shortfall): {cells}")
    return lines


def research_lines(warehouse: Warehouse) -> list[str]:
    """One line per range-level result, when those tables exist (best over stored runs)."""
    lines = []
    if warehouse.table_exists("optimization_top"):
        sharpe, fast, slow = warehouse.read(
            "SELECT sharpe, fast, slow FROM optimization_top ORDER BY sharpe DESC LIMIT 1"
        ).row(0)
        lines.append(f"dual-MA sweep: best Sharpe {sharpe:.2f} (fast {fast}, slow {slow})")
    if warehouse.table_exists("risk_summary"):
        var95, cvar99 = warehouse.read("SELECT var_95, cvar_99 FROM risk_summary LIMIT 1").row(0)
        lines.append(f"Monte Carlo 1-day risk: VaR95 {var95:+.2%}, CVaR99 {cvar99:+.2%}")
    return lines
