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
