"""Blocking data-quality checks on each raw type: a bad tick day must not reach the bars."""

import dagster as dg

from tardis_assets.defs.partitions import daily
from tardis_assets.defs.resources import MarketResource, WarehouseResource
from tardis_assets.defs.support.context import run_days
from tardis_assets.lib.market.tardis import lake_path
from tardis_assets.lib.market.tardis.quality import quality_report


def build_quality_check(data_type: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=f"raw_{data_type}",
        name=f"raw_{data_type}_quality",
        blocking=True,
        partitions_def=daily,
        description=(
            "Rows inside the UTC day by local_timestamp, non-negative amounts, positive prices, "
            "no duplicate trade ids, out-of-order local timestamps within tolerance; reports the "
            "longest silence."
        ),
    )
    def quality(
        context: dg.AssetCheckExecutionContext,
        market: MarketResource,
        warehouse: WarehouseResource,
    ) -> dg.AssetCheckResult:
        days = run_days(context)
        lake = warehouse.lake_root()
        metadata: dict[str, object] = {}
        problems: list[str] = []
        for day in days:
            for exchange, symbol in market.instrument_list():
                path = lake_path(lake, data_type, exchange, symbol, day)
                label = f"{day} {exchange}:{symbol}"
                if not path.exists():
                    metadata[label] = "absent"
                    continue
                report = quality_report(path, data_type, day)
                single = len(days) == 1 and len(market.instruments) == 1
                for key, value in report.as_metadata().items():
                    metadata[key if single else f"{label} {key}"] = value
                if not report.passed:
                    problems += [f"{label}: {p}" for p in report.problems]
        return dg.AssetCheckResult(
            passed=not problems,
            metadata=metadata,
            description="; ".join(problems) or None,
        )

    return quality
