"""Quality checks on bars, per day and instrument: a bad feature day must not reach the LLM layer.

Limits and severities come from the quality rules, so an illiquid instrument can be allowed long
silences (``warn``) while a liquid one still blocks (``error``).
"""

from datetime import timedelta

import dagster as dg

from tardis_assets.defs.partitions import daily
from tardis_assets.defs.resources import MarketResource, QualityResource, WarehouseResource
from tardis_assets.defs.support.checks import check_result
from tardis_assets.defs.support.context import run_days


@dg.asset_check(
    asset="bars",
    blocking=True,
    partitions_def=daily,
    description="low <= open, close <= high; volume >= 0 (rule inconsistent_bars)",
)
def bars_ohlc_consistent(
    context: dg.AssetCheckExecutionContext,
    warehouse: WarehouseResource,
    quality: QualityResource,
) -> dg.AssetCheckResult:
    days = run_days(context)
    rules = quality.rules()
    stats = warehouse.warehouse().read(
        """SELECT date, exchange, symbol, count(*) AS bars,
               count(*) FILTER (WHERE NOT (low <= least(open, close)
                                        AND greatest(open, close) <= high
                                        AND volume >= 0 AND low > 0)) AS bad
        FROM bars WHERE date BETWEEN ? AND ? GROUP BY ALL ORDER BY ALL""",
        [days[0], days[-1]],
    )
    missing = sorted(set(days) - set(stats["date"].to_list()))
    metadata = {"bars": int(stats["bars"].sum()), "inconsistent": int(stats["bad"].sum())}
    if missing:
        return check_result([], metadata, empty=f"bars: no bars for {', '.join(map(str, missing))}")
    findings = []
    for row in stats.iter_rows(named=True):
        instrument = f"{row['exchange']}:{row['symbol']}"
        findings += rules.judge(
            "bars",
            instrument,
            {"inconsistent_bars": row["bad"]},
            where=instrument if len(days) == 1 else f"{instrument} {row['date']}",
        )
    return check_result(findings, metadata)


@dg.asset_check(
    asset="bars",
    blocking=True,
    partitions_def=daily,
    description=(
        "no run of consecutive bars without a trade longer than the instrument's quiet_bars "
        "limit; reports the longest silence's start and end"
    ),
)
def bars_no_long_gaps(
    context: dg.AssetCheckExecutionContext,
    warehouse: WarehouseResource,
    market: MarketResource,
    quality: QualityResource,
) -> dg.AssetCheckResult:
    days = run_days(context)
    rules = quality.rules()
    runs = warehouse.warehouse().read(
        """WITH b AS (
               SELECT date, exchange, symbol, bar_start, trades,
                      sum(CASE WHEN trades > 0 THEN 1 ELSE 0 END) OVER (
                          PARTITION BY date, exchange, symbol ORDER BY bar_start) AS grp
               FROM bars WHERE date BETWEEN ? AND ?),
           quiet AS (
               SELECT date, exchange, symbol, grp, count(*) AS run,
                      min(bar_start) AS first, max(bar_start) AS last
               FROM b WHERE trades = 0 GROUP BY ALL)
           -- the longest run per instrument and day; among equally long runs the first
           SELECT date, exchange, symbol, run AS longest, first AS quiet_from, last AS quiet_last
           FROM quiet
           QUALIFY row_number() OVER (
               PARTITION BY date, exchange, symbol ORDER BY run DESC, first) = 1
           ORDER BY ALL""",
        [days[0], days[-1]],
    )
    bar = timedelta(seconds=market.bar_seconds)
    findings = []
    quiet_instruments: list[str] = []
    metadata: dict[str, object] = {
        "longest_quiet_bars": int(runs["longest"].max() or 0) if runs.height else 0
    }
    for row in runs.iter_rows(named=True):
        instrument = f"{row['exchange']}:{row['symbol']}"
        end = row["quiet_last"] + bar
        span = f"from {row['quiet_from']:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
        metadata[f"{instrument} {row['date']} longest_quiet"] = f"{row['longest']} bars {span}"
        found = rules.judge(
            "bars",
            instrument,
            {"quiet_bars": row["longest"]},
            where=instrument if len(days) == 1 else f"{instrument} {row['date']}",
            details={"quiet_bars": span},
        )
        findings += found
        if found:
            quiet_instruments.append(instrument)
    if findings:
        fix = (
            ' For an instrument this quiet, raise quiet_bars (or set severity = "warn") under '
            f'[quality.instruments."{quiet_instruments[0]}".bars] in tardis_assets.toml.'
        )
        result = check_result(findings, metadata)
        return dg.AssetCheckResult(
            passed=result.passed,
            severity=result.severity,
            description=f"{result.description}.{fix}",
            metadata=result.metadata,
        )
    return check_result(findings, metadata)
