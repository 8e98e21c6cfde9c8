"""Materialization metadata: numbers the UI can plot, small tables and PNGs it can render."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    import polars as pl


def plain_metadata(metadata: Mapping[str, object]) -> dict[str, dg.MetadataValue]:
    """Numbers as float/int metadata (the UI plots them across partitions), text as text."""
    out: dict[str, dg.MetadataValue] = {}
    for key, value in metadata.items():
        if isinstance(value, (bool, str)):
            out[key] = dg.MetadataValue.text(str(value))
        elif isinstance(value, int):
            out[key] = dg.MetadataValue.int(value)
        else:
            out[key] = dg.MetadataValue.float(float(value))  # type: ignore[arg-type]
    return out


def png_markdown(png: bytes, title: str) -> dg.MetadataValue:
    """A small PNG inline in the UI (it lives in the event log, so it must stay small)."""
    encoded = base64.b64encode(png).decode()
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")


def time_range_metadata(frame: pl.DataFrame, column: str) -> dict[str, dg.MetadataValue]:
    """First/last timestamp of a frame column, as text the UI shows verbatim."""
    if frame.is_empty():
        return {}
    return {
        "first": dg.MetadataValue.text(str(frame[column].min())),
        "last": dg.MetadataValue.text(str(frame[column].max())),
    }
