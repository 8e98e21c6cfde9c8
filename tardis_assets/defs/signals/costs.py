"""The LLM costs report as an asset: the cost views in the warehouse and their table in metadata."""

import dagster as dg

from tardis_assets.defs.common import DUCKDB_POOL, RETRY
from tardis_assets.defs.resources import WarehouseResource
from tardis_assets.lib.costs import cost_report, create_cost_views, format_costs


@dg.asset(
    deps=["llm_signals"],
    group_name="signals",
    kinds={"duckdb"},
    pool=DUCKDB_POOL,
    retry_policy=RETRY,
    description=(
        "LLM spend and cache savings (views llm_cost_daily and llm_cost_by_model): cost, calls, "
        "tokens by day, kind, model and provider. Same table as `tardis-assets costs`."
    ),
)
def llm_costs(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    wh = warehouse.warehouse()
    create_cost_views(wh)
    by_model = cost_report(wh, by="model")
    by_day = cost_report(wh, by="day")
    context.log.info("\n" + format_costs(by_model))
    return dg.MaterializeResult(
        metadata={
            "cost_usd": dg.MetadataValue.float(float(by_model["cost_usd"].sum())),
            "cache_savings_usd": dg.MetadataValue.float(float(by_model["cache_savings_usd"].sum())),
            "calls": dg.MetadataValue.int(int(by_model["calls"].sum())),
            "cache_hits": dg.MetadataValue.int(int(by_model["cache_hits"].sum())),
            "by_model": dg.MetadataValue.md(_markdown(by_model)),
            "by_day": dg.MetadataValue.md(_markdown(by_day)),
        }
    )


def _markdown(frame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.rows()]
    return "\n".join([header, rule, *rows])
