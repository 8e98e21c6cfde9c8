"""The LLM costs report as an asset: the cost views in the warehouse and their table in metadata."""

import dagster as dg

from tardis_assets.defs.resources import WarehouseResource
from tardis_assets.defs.support.failures import RETRY


@dg.asset(
    deps=["llm_signals"],
    group_name="signals",
    kinds={"duckdb"},
    retry_policy=RETRY,
    description=(
        "LLM spend and cache savings (views llm_cost_daily and llm_cost_by_model): cost, calls, "
        "tokens by day, kind, model and provider. Same table as `tardis-assets costs`."
    ),
)
def llm_costs(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    from tardis_assets.lib.costs import cost_report, format_costs
    from tardis_assets.lib.markdown import markdown_table

    wh = warehouse.warehouse()
    by_model = cost_report(wh, by="model")
    by_day = cost_report(wh, by="day")
    context.log.info("\n" + format_costs(by_model))
    return dg.MaterializeResult(
        metadata={
            "cost_usd": dg.MetadataValue.float(float(by_model["cost_usd"].sum())),
            "cache_savings_usd": dg.MetadataValue.float(float(by_model["cache_savings_usd"].sum())),
            "calls": dg.MetadataValue.int(int(by_model["calls"].sum())),
            "cache_hits": dg.MetadataValue.int(int(by_model["cache_hits"].sum())),
            "by_model": dg.MetadataValue.md(markdown_table(by_model, "{:.6f}")),
            "by_day": dg.MetadataValue.md(markdown_table(by_day, "{:.6f}")),
        }
    )
