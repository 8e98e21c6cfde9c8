"""Partitions: UTC days like tardis files, and days x signal kind for the LLM layer."""

from __future__ import annotations

import dagster as dg

from tardis_assets.lib.llm import KINDS

# tardis.dev history starts in 2019; partitions before a user's data simply have nothing to read.
START_DATE = "2020-01-01"

daily = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC")
kind = dg.StaticPartitionsDefinition(list(KINDS))
daily_by_kind = dg.MultiPartitionsDefinition({"date": daily, "kind": kind})
by_date = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="date")
