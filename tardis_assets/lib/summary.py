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
       FROM backtest_summary WHERE run_id = ? GROUP BY ALL)
SELECT days.date, ticks.exchange, ticks.symbol, ticks.source, coalesce(ticks.ticks, 0) AS ticks,
       coalesce(b.bars, 0) AS bars, coalesce(bt.trades, 0) AS trades, bt.pnl, bt.sharpe
FROM days JOIN ticks USING (date)
LEFT JOIN b USING (date, exchange, symbol) LEFT JOIN bt USING (date, exchange, symbol)
ORDER BY days.date, ticks.exchange, ticks.symbol
"""

DAY_SQL = """
WITH days AS (SELECT unnest(?::DATE[]) AS date),
llm AS (SELECT date, sum(http_calls) AS llm_calls, sum(cache_hits) AS cache_hits,
               sum(cost_usd) AS cost_usd, sum(cache_savings_usd) AS saved_usd
        FROM llm_partition_stats GROUP BY date)
SELECT days.date, coalesce(llm.llm_calls, 0) AS llm_calls,
       coalesce(llm.cache_hits, 0) AS cache_hits, coalesce(llm.cost_usd, 0) AS cost_usd,
       coalesce(llm.saved_usd, 0) AS saved_usd
FROM days LEFT JOIN llm USING (date) ORDER BY days.date
"""


def instrument_summary(warehouse: Warehouse, days: Sequence[date], run_id: str) -> pl.DataFrame:
    """One row per instrument and day: ticks, bars, and the default strategy's backtest."""
    return warehouse.read(INSTRUMENT_SQL, [list(days), run_id])


def day_summary(warehouse: Warehouse, days: Sequence[date]) -> pl.DataFrame:
    """One row per day: what the LLM layer's latest runs needed and cost."""
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
)
DAY_COLUMNS: tuple[tuple[str, str, Formatter], ...] = (
    ("day", "date", _dash("{}")),
    ("LLM calls", "llm_calls", _dash("{:,}")),
    ("cache hits", "cache_hits", _dash("{:,}")),
    ("cost USD", "cost_usd", _dash("{:.4f}")),
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


def summary_text(warehouse: Warehouse, days: Sequence[date], run_id: str) -> str:
    """Both tables, as the demo and `tardis-assets summary` print them."""
    return "\n\n".join(
        [
            format_table(instrument_summary(warehouse, days, run_id), INSTRUMENT_COLUMNS),
            format_table(day_summary(warehouse, days), DAY_COLUMNS),
        ]
    )


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
