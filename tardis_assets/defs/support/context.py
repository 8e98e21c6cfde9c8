"""What a run is for: its UTC days, whatever the partitioning or the backfill policy."""

from __future__ import annotations

from datetime import date

import dagster as dg

# A run (or a whole backfill, whose runs inherit its tags) with this tag set to "batch" sends its
# missing LLM requests through the provider's Batch API: `tardis-assets backfill --batch`.
LLM_MODE_TAG = "tardis/llm_mode"


def llm_mode(context: dg.AssetExecutionContext, batch_by_default: bool) -> str:
    """'batch' when the resource says so or the run was tagged for it, else 'online'."""
    tagged = context.run.tags.get(LLM_MODE_TAG)
    return "batch" if batch_by_default or tagged == "batch" else "online"


def run_days(context: dg.AssetCheckExecutionContext | dg.AssetExecutionContext) -> list[date]:
    """The UTC days of a run's partitions: one for a single partition, several for a range run
    (single-run backfills), where ``context.partition_key`` would raise."""
    return sorted({date.fromisoformat(key.split("|")[0]) for key in context.partition_keys})


def day_of(partition_key: str) -> date:
    return date.fromisoformat(partition_key)


def partition_label(context: dg.AssetExecutionContext) -> str | None:
    """The partition (or range of partitions) a run materializes, for messages."""
    if not context.has_partition_key and not context.has_partition_key_range:
        return None
    keys = [str(k) for k in context.partition_keys]
    return keys[0] if len(keys) == 1 else f"{keys[0]}..{keys[-1]}"
