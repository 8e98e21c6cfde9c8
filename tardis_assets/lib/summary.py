"""The run summary, read back from the warehouse (not from in-memory state), so it reports what is
actually stored: a second run that changed nothing prints the same table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from tardis_assets.lib.warehouse import Warehouse

SUMMARY_SQL = """
WITH days AS (SELECT unnest(?::DATE[]) AS date),
ticks AS (SELECT date, sum(rows) AS ticks FROM raw_files WHERE data_type = 'trades' GROUP BY date),
b AS (SELECT CAST(bar_start AT TIME ZONE 'UTC' AS DATE) AS date, count(*) AS bars
      FROM bars GROUP BY 1),
llm AS (SELECT date, sum(http_calls) AS llm_calls, sum(cache_hits) AS cache_hits,
               sum(cost_usd) AS cost_usd, sum(cache_savings_usd) AS saved_usd
        FROM llm_partition_stats GROUP BY date),
bt AS (SELECT date, CAST(sum(n_trades) AS BIGINT) AS trades, avg(total_return) AS pnl,
              avg(sharpe) AS sharpe
       FROM backtest_summary WHERE run_id = ? GROUP BY date)
SELECT days.date, coalesce(ticks.ticks, 0) AS ticks, coalesce(b.bars, 0) AS bars,
       coalesce(llm.llm_calls, 0) AS llm_calls, coalesce(llm.cache_hits, 0) AS cache_hits,
       coalesce(llm.cost_usd, 0) AS cost_usd, coalesce(llm.saved_usd, 0) AS saved_usd,
       coalesce(bt.trades, 0) AS trades,
       bt.pnl, bt.sharpe
FROM days LEFT JOIN ticks USING (date) LEFT JOIN b USING (date) LEFT JOIN llm USING (date)
LEFT JOIN bt USING (date) ORDER BY days.date
"""


def summary(warehouse: Warehouse, days: Sequence[date], run_id: str) -> pl.DataFrame:
    return warehouse.read(SUMMARY_SQL, [list(days), run_id])


def format_table(frame: pl.DataFrame) -> str:
    """A plain fixed-width table (no dependency, readable in CI logs)."""
    headers = [
        "day",
        "ticks",
        "bars",
        "LLM calls",
        "cache hits",
        "cost USD",
        "saved USD",
        "trades",
        "PnL",
        "Sharpe",
    ]
    rows = []
    for r in frame.iter_rows(named=True):
        rows.append(
            [
                str(r["date"]),
                f"{r['ticks']:,}",
                f"{r['bars']:,}",
                f"{r['llm_calls']:,}",
                f"{r['cache_hits']:,}",
                f"{r['cost_usd']:.4f}",
                f"{r['saved_usd']:.4f}",
                f"{r['trades']:,}",
                "-" if r["pnl"] is None else f"{r['pnl']:+.2%}",
                "-" if r["sharpe"] is None else f"{r['sharpe']:.2f}",
            ]
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


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
