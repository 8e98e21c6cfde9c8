"""Bounded gzip inflation: a .gz input may not expand beyond a size or a ratio (gzip bombs).

A few hundred KiB of gzip can inflate to gigabytes of NUL bytes; without a bound the readers
would spend minutes and memory on it and then report something unrelated ("header only"). Every
inflated byte of a tardis file therefore passes an ``InflateGuard``, which counts the bytes it
hands out and the compressed bytes it consumed, and stops with a ``TardisFileError`` naming the
limit once a file expands beyond ``max_gib`` GiB, or beyond ``max_ratio`` inflated bytes per
compressed byte after its first ``RATIO_FLOOR_BYTES`` (small files may compress far better than
a day of ticks without being dangerous). Real tardis.dev days inflate 5-15x; the defaults here
(the one definition of them; ``[market]`` in tardis_assets.toml overrides) leave ample room.

``scan_gzip`` reads a whole file through the guard without keeping it, for the precise reader
(DuckDB inflates by itself there): it names the limit, a truncated stream, or a line longer than
the CSV reader accepts, with its line number, where DuckDB's gzip reader would report nothing.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from tardis_assets.lib.errors import ConfigError
from tardis_assets.lib.market.tardis.errors import TardisFileError

try:  # ISA-L is optional (the fast inflate); its stream errors are input errors too
    from isal.igzip_lib import IsalError
except ImportError:  # pragma: no cover - isal is a dependency, but keep the reader importable
    IsalError = None  # type: ignore[assignment, misc]

GIB = 1 << 30
MIB = 1 << 20
# The ratio is judged once this much has been inflated: below it a file cannot hurt.
RATIO_FLOOR_BYTES = 64 * MIB
# The longest CSV line the readers accept (DuckDB's max_line_size; tardis lines are < 10 KiB).
MAX_LINE_BYTES = 2_000_000
CHUNK_BYTES = 8 * MIB

# What a broken (truncated, corrupt) gzip stream raises, whichever inflater runs.
STREAM_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    zlib.error,
    *((IsalError,) if IsalError is not None else ()),
)

LIMITS_REMEDY = (
    "Re-download the file; if it is genuine, raise max_inflated_gib or max_inflate_ratio under "
    "[market] in tardis_assets.toml, then materialize the partition again."
)


@dataclass(frozen=True)
class InflateLimits:
    """How far one .gz input may expand (``[market]`` max_inflated_gib, max_inflate_ratio)."""

    max_gib: float = 64.0
    max_ratio: float = 100.0

    def __post_init__(self) -> None:
        if self.max_gib <= 0 or self.max_ratio <= 1:
            raise ConfigError(
                f"max_inflated_gib={self.max_gib:g} must be > 0 and "
                f"max_inflate_ratio={self.max_ratio:g} must be > 1"
            )

    @property
    def max_bytes(self) -> int:
        return int(self.max_gib * GIB)


class InflateLimitError(TardisFileError):
    """A .gz file expanded beyond a limit: not retried, not read further."""

    def __init__(self, path: Path | str, reason: str, remedy: str | None = LIMITS_REMEDY) -> None:
        super().__init__(path, None, reason, remedy)

    def __reduce__(self):  # keeps the attributes when pickled across processes
        return (type(self), (self.path, self.reason, self.remedy))


def _gib(n: float) -> str:
    return f"{n:g}"


def _inflater(raw: BinaryIO) -> Any:
    """ISA-L's gzip reader (about 4x faster than zlib's) when installed, else zlib's."""
    try:
        from isal import igzip
    except ImportError:
        return gzip.GzipFile(fileobj=raw, mode="rb")
    return igzip.IGzipFile(fileobj=raw, mode="rb")


class InflateGuard(io.RawIOBase):
    """The inflated bytes of one .gz file, readable once, within ``limits``.

    ``exceeded`` keeps the limit error once raised: readers that call this from their own
    threads (Arrow, DuckDB's Arrow scan) may report it as their own error type.
    """

    def __init__(self, path: Path, limits: InflateLimits) -> None:
        super().__init__()
        self.path, self.limits = Path(path), limits
        self._raw: BinaryIO = self.path.open("rb")
        self._gz: Any = _inflater(self._raw)
        self.inflated = 0
        self.exceeded: InflateLimitError | None = None

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._gz.read(size if size is not None and size >= 0 else -1)
        self._count(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        n = self._gz.readinto(buffer)
        self._count(n)
        return n

    @property
    def compressed(self) -> int:
        """Compressed bytes consumed so far (the inflater reads slightly ahead)."""
        return max(self._raw.tell(), 1)

    def _count(self, n: int) -> None:
        self.inflated += n
        if self.exceeded is not None:
            raise self.exceeded
        limits = self.limits
        if self.inflated > limits.max_bytes:
            self.exceeded = InflateLimitError(
                self.path,
                f"gzip stream expands beyond {_gib(limits.max_gib)} GiB "
                f"(max_inflated_gib; {self.inflated:,} bytes inflated from "
                f"{self.compressed:,} compressed): too large for one tardis day, or a gzip bomb",
            )
        elif self.inflated > RATIO_FLOOR_BYTES and self.inflated > limits.max_ratio * (
            self.compressed
        ):
            self.exceeded = InflateLimitError(
                self.path,
                f"gzip stream expands beyond {limits.max_ratio:g} bytes per compressed byte "
                f"(max_inflate_ratio; {self.inflated:,} bytes inflated from "
                f"{self.compressed:,}, {self.inflated / self.compressed:,.0f}x; tardis days "
                "inflate 5-15x): a gzip bomb or not a tardis file",
            )
        if self.exceeded is not None:
            raise self.exceeded

    def close(self) -> None:
        if not self.closed:
            try:
                self._gz.close()
            finally:
                self._raw.close()
        super().close()


def _first_long_line(chunk: bytes, carry: int, max_line: int) -> tuple[int | None, int, int]:
    """(index of the first line in ``chunk`` longer than ``max_line`` or None, the length of
    the unfinished last line, the newlines in ``chunk``). ``carry``: bytes of the line the
    previous chunk left unfinished; line 0 is that line."""
    newlines = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 0x0A)
    if newlines.size == 0:
        total = carry + len(chunk)
        return (0 if total > max_line else None), total, 0
    if carry + int(newlines[0]) > max_line:
        return 0, 0, int(newlines.size)
    inner = np.flatnonzero(np.diff(newlines) - 1 > max_line)
    tail = len(chunk) - int(newlines[-1]) - 1
    if inner.size:
        return int(inner[0]) + 1, tail, int(newlines.size)
    if tail > max_line:
        return int(newlines.size), tail, int(newlines.size)
    return None, tail, int(newlines.size)


def scan_gzip(path: Path, limits: InflateLimits, max_line: int = MAX_LINE_BYTES) -> int:
    """Inflate ``path`` to the end without keeping it; return the inflated size.

    Raises ``InflateLimitError`` at a limit, a ``TardisFileError`` for a truncated or corrupt
    stream, and one naming the line for a line longer than ``max_line`` bytes. A limit wins over
    a long line (a bomb has no line endings either), so the scan goes on after the first one.
    """
    line = 1  # the physical line the next byte belongs to
    carry = 0
    too_long: int | None = None
    with InflateGuard(path, limits) as guard:
        while True:
            try:
                chunk = guard.read(CHUNK_BYTES)
            except InflateLimitError:
                raise
            except STREAM_ERRORS as exc:
                if too_long is not None:
                    break  # the long line came first
                # Inflaters fail a whole read at once: the line is not known.
                raise TardisFileError(
                    path, None, f"truncated or corrupt gzip stream ({exc})"
                ) from None
            if not chunk:
                break
            if too_long is None:
                long_line, carry, newlines = _first_long_line(chunk, carry, max_line)
                if long_line is not None:
                    too_long = line + long_line
                line += newlines
    if too_long is not None:
        raise TardisFileError(
            path,
            too_long,
            f"line longer than {max_line:,} bytes (no line ending where a tardis row ends): a "
            "corrupt or non-tardis file",
        )
    return guard.inflated
