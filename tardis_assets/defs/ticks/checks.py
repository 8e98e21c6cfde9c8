"""Quality checks on each raw type: the measurements of the published files, judged by the rules.

A file breaking a blocking rule is never published (the raw asset validates before it replaces
anything), so this check shows what was measured and warned about, judged again with the rules
as they are now: a limit made stricter in the project file fails the day here and keeps its bars
from being built.
"""

import dagster as dg

from tardis_assets.defs.partitions import daily
from tardis_assets.defs.resources import QualityResource, WarehouseResource
from tardis_assets.defs.support.checks import check_result
from tardis_assets.defs.support.context import run_days


def build_quality_check(data_type: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=f"raw_{data_type}",
        name=f"raw_{data_type}_quality",
        blocking=True,
        partitions_def=daily,
        description=(
            "Per instrument: rows in the file, inside the UTC day, non-negative amounts, positive "
            "prices, no repeated trade ids, local timestamps in order (within a tolerance), and "
            "the longest silence with its start and end; limits and severities from the quality "
            "rules (lib/quality/rules.toml, overridable per instrument in tardis_assets.toml)."
        ),
    )
    def quality(
        context: dg.AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        quality: QualityResource,
    ) -> dg.AssetCheckResult:
        from tardis_assets.lib.market.tables import RAW_QUALITY

        days = run_days(context)
        rules = quality.rules()
        stored = warehouse.warehouse().read_partitions(
            RAW_QUALITY, ({"data_type": data_type, "date": d} for d in days)
        )
        findings = []
        metadata: dict[str, object] = {"files": stored.height}
        for row in stored.iter_rows(named=True):
            instrument = f"{row['exchange']}:{row['symbol']}"
            where = instrument if len(days) == 1 else f"{instrument} {row['date']}"
            values = {name: row[name] for name in rules.rules("raw", instrument, data_type)}
            details = {
                "longest_silence_seconds": f"from {row['silence_start']:%Y-%m-%d %H:%M:%S} to "
                f"{row['silence_end']:%Y-%m-%d %H:%M:%S} UTC"
            }
            findings += rules.judge(
                "raw", instrument, values, where=where, data_type=data_type, details=details
            )
            prefix = "" if stored.height == 1 else f"{instrument} {row['date']} "
            metadata[f"{prefix}rows"] = row["rows"]
            metadata[f"{prefix}longest_silence_seconds"] = round(row["longest_silence_seconds"], 3)
        return check_result(findings, metadata)

    return quality
