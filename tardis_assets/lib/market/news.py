"""User news files: ``data/inputs/news_{YYYY-MM-DD}.csv``.

Columns: published_at, headline, source, symbols.

``published_at`` is integer µs since the epoch (as tardis timestamps) or an ISO-8601 time with a
zone; ``symbols`` is a ``;``-separated list of assets (``BTC;ETH``). Headlines are untrusted text:
they are stored verbatim and only ever placed inside prompts as data.

Hostile files fail with the file and the physical line: text must be UTF-8 (the byte offset of
the first invalid byte is named), a field may hold at most ``MAX_FIELD_CHARS`` characters (a
"headline" longer than that is not one, and would be a prompt of tens of thousands of tokens),
and a line at most ``MAX_LINE_BYTES`` bytes, so a file without line endings is never read whole.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO

import polars as pl

from tardis_assets.lib.days import US_PER_DAY, day_start_us
from tardis_assets.lib.errors import BadInputError
from tardis_assets.lib.market.synthetic import news_frame

NEWS_HEADER = ["published_at", "headline", "source", "symbols"]
# The csv module's own default field limit: the longest headline (or other field) accepted.
MAX_FIELD_CHARS = 131_072
# Four fields of MAX_FIELD_CHARS characters of up to 4 UTF-8 bytes each, and the separators.
MAX_LINE_BYTES = 4 * 4 * MAX_FIELD_CHARS + 64
_TOO_LONG = (
    f"a field longer than {MAX_FIELD_CHARS:,} characters, the limit for a headline or any news "
    "field"
)


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


class _Lines:
    """The file's lines decoded as UTF-8, counting physical lines and bytes for messages."""

    def __init__(self, path: Path, handle: BinaryIO) -> None:
        self.path, self.handle = path, handle
        self.line = 0  # physical lines read so far (the last one yielded)
        self.offset = 0  # bytes before the next line

    def __iter__(self) -> Iterator[str]:
        while raw := self.handle.readline(MAX_LINE_BYTES + 1):
            self.line += 1
            if len(raw) > MAX_LINE_BYTES:
                raise NewsFileError(
                    self.path,
                    self.line,
                    f"line longer than {MAX_LINE_BYTES:,} bytes: {_TOO_LONG}",
                )
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise NewsFileError(
                    self.path,
                    self.line,
                    f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at byte offset "
                    f"{self.offset + exc.start:,} of the file (byte {exc.start + 1} of the line)",
                ) from None
            self.offset += len(raw)
            yield text.lstrip("\ufeff") if self.line == 1 else text


def _records(path: Path, handle: BinaryIO) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, fields) per CSV record; hostile input raises NewsFileError."""
    lines = _Lines(path, handle)
    reader = csv.reader(lines)
    while True:
        start = lines.line + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise NewsFileError(path, start, _TOO_LONG) from None
            raise NewsFileError(path, start, f"not a CSV record ({exc})") from None
        if any(len(f) > MAX_FIELD_CHARS for f in record):
            raise NewsFileError(path, start, _TOO_LONG)
        yield start, record


def read_news_file(path: Path, day: date) -> pl.DataFrame:
    """Load and validate one day's news file (small: headlines, not ticks)."""
    rows: dict[str, list] = {name: [] for name in NEWS_HEADER}
    start = day_start_us(day)
    with path.open("rb") as handle:
        records = _records(path, handle)
        _, header = next(records, (1, None))
        if header != NEWS_HEADER:
            raise NewsFileError(path, 1, f"header must be {','.join(NEWS_HEADER)}, got {header}")
        for line_no, record in records:
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
