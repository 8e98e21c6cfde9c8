"""Frames as markdown tables: the one formatter behind every table shown in asset metadata."""

from __future__ import annotations

import polars as pl


def markdown_table(frame: pl.DataFrame, float_format: str = "{:.4g}") -> str:
    """A frame as a markdown table; floats through ``float_format``, everything else ``str``."""
    cols = frame.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.iter_rows():
        cells = [float_format.format(v) if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
