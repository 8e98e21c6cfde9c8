"""Blocking data-quality checks on each raw type: a bad tick day must not reach the bars."""

import dagster as dg

from tardis_assets.defs.resources import MarketResource, day_of
from tardis_assets.lib.market.tardis import lake_path
from tardis_assets.lib.market.tardis.quality import quality_report


def build_quality_check(data_type: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=f"raw_{data_type}",
        name=f"raw_{data_type}_quality",
        blocking=True,
        description=(
            "Rows inside the UTC day by local_timestamp, non-negative amounts, positive prices, "
            "no duplicate trade ids, out-of-order local timestamps within tolerance; reports the "
            "longest silence."
        ),
    )
    def quality(
        context: dg.AssetCheckExecutionContext, market: MarketResource
    ) -> dg.AssetCheckResult:
        day = day_of(context.partition_key)
        metadata: dict[str, object] = {}
        problems: list[str] = []
        for exchange, symbol in market.instrument_list():
            path = lake_path(market.lake(), data_type, exchange, symbol, day)
            if not path.exists():
                metadata[f"{exchange}:{symbol}"] = "absent"
                continue
            report = quality_report(path, data_type, day)
            for key, value in report.as_metadata().items():
                metadata[f"{symbol} {key}" if len(market.instruments) > 1 else key] = value
            problems += [f"{exchange}:{symbol}: {p}" for p in report.problems if not report.passed]
        return dg.AssetCheckResult(
            passed=not problems,
            metadata=metadata,
            description="; ".join(problems) or None,
        )

    return quality
