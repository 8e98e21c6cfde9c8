"""User news files: ``data/inputs/news_{YYYY-MM-DD}.csv``.

Columns: published_at, headline, source, symbols.

``published_at`` is integer µs since the epoch (as tardis timestamps) or an ISO-8601 time with a
zone; ``symbols`` is a ``;``-separated list of assets (``BTC;ETH``). Headlines are untrusted text:
they are stored verbatim and only ever placed inside prompts as data.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from tardis_assets.lib.days import US_PER_DAY, day_start_us
from tardis_assets.lib.errors import BadInputError
from tardis_assets.lib.market.synthetic import news_frame

NEWS_HEADER = ["published_at", "headline", "source", "symbols"]


class NewsFileError(BadInputError):
    """A news file that cannot be loaded; names the file, the line and the problem."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        self.path, self.line, self.reason = path, line, reason
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(
            f"{where}: {reason}",
            remedy="Fix the file (columns published_at,headline,source,symbols) and "
            "materialize the day again.",
            facts={"file": str(path), **({"line": line} if line is not None else {})},
        )

    def __reduce__(self):  # keeps the attributes when pickled across processes
        return (type(self), (self.path, self.line, self.reason))


def news_path(inputs_dir: Path, day: date) -> Path:
    return inputs_dir / f"news_{day.isoformat()}.csv"


def _parse_time(text: str) -> int:
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} has no zone (use Z or +00:00)")
    return int(moment.astimezone(UTC).timestamp() * 1_000_000)


def read_news_file(path: Path, day: date) -> pl.DataFrame:
    """Load and validate one day's news file (small: headlines, not ticks)."""
    rows: dict[str, list] = {name: [] for name in NEWS_HEADER}
    start = day_start_us(day)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != NEWS_HEADER:
            raise NewsFileError(path, 1, f"header must be {','.join(NEWS_HEADER)}, got {header}")
        for line_no, record in enumerate(reader, start=2):
            if len(record) != len(NEWS_HEADER):
                raise NewsFileError(path, line_no, f"expected 4 fields, got {len(record)}")
            try:
                published = _parse_time(record[0])
            except ValueError as exc:
                raise NewsFileError(path, line_no, f"bad published_at: {exc}") from None
            if not start <= published < start + US_PER_DAY:
                raise NewsFileError(path, line_no, f"published_at outside {day.isoformat()} UTC")
            if not record[1].strip():
                raise NewsFileError(path, line_no, "empty headline")
            rows["published_at"].append(published)
            rows["headline"].append(record[1])
            rows["source"].append(record[2])
            rows["symbols"].append([s.strip().upper() for s in record[3].split(";") if s.strip()])
    return news_frame(rows).sort("published_at")
