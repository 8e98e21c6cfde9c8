"""Tables owned by the market layer: the ingest log of raw files, and the news."""

from __future__ import annotations

from tardis_assets.lib.storage.schema import Col, Table

RAW_FILES = Table(
    "raw_files",
    {
        "data_type": Col.TEXT,
        "exchange": Col.TEXT,
        "symbol": Col.TEXT,
        "date": Col.DATE,
        "source": Col.TEXT,  # 'file' (tardis input), 'synthetic' or 'absent'
        "input_path": Col.TEXT,
        "lake_path": Col.TEXT,
        "rows": Col.INT,
        "min_timestamp": Col.INT,
        "max_timestamp": Col.INT,
        "ingested_at": Col.TIME,
    },
    partition_by=("data_type", "date"),
    description="one row per (type, instrument, day) ingested into the raw lake",
)

NEWS = Table(
    "news",
    {
        "date": Col.DATE,
        "published_at": Col.TIME,
        "headline": Col.TEXT,
        "source": Col.TEXT,
        "symbols": Col.TEXT_LIST,
    },
    partition_by=("date",),
    description="headlines per UTC day (untrusted text, only ever placed in prompts as data)",
)

# The quality measurements of every raw file published, per (type, instrument, day): the data
# the raw checks judge, so a limit changed in the project file applies on the next check without
# re-reading the ticks.
RAW_QUALITY = Table(
    "raw_quality",
    {
        "data_type": Col.TEXT,
        "date": Col.DATE,
        "exchange": Col.TEXT,
        "symbol": Col.TEXT,
        "rows": Col.INT,
        "rows_outside_day": Col.INT,
        "negative_amounts": Col.INT,
        "non_positive_prices": Col.INT,
        "duplicate_trade_ids": Col.INT,
        "out_of_order_share": Col.FLOAT,
        "longest_silence_seconds": Col.FLOAT,
        "silence_start": Col.TIME,
        "silence_end": Col.TIME,
        "findings": Col.TEXT,  # warnings recorded when the file was accepted ("" when none)
    },
    partition_by=("data_type", "date"),
    description="quality measurements of each raw file, judged by the quality rules",
)
