"""The one exception every tardis reader raises for bad input.

A partition that fails must tell the operator which file, which physical line and what is wrong,
so the error carries those three facts as attributes as well as in its message.
"""

from __future__ import annotations

from pathlib import Path

from tardis_assets.lib.errors import BadInputError

DEFAULT_REMEDY = "Fix or re-download the file, then materialize the partition again."


class TardisFileError(BadInputError):
    """A tardis.dev file (or in-memory frame) that cannot be accepted as-is.

    ``line`` is the 1-based physical line of the CSV file (the header is line 1), or ``None`` when
    the problem is not tied to one line (a truncated gzip stream, an unknown data type).
    """

    def __init__(
        self, path: Path | str, line: int | None, reason: str, remedy: str | None = DEFAULT_REMEDY
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}" if line is None else f"{self.path}, line {line}"
        super().__init__(
            f"{where}: {reason}",
            remedy=remedy,
            facts={"file": str(self.path), **({"line": line} if line is not None else {})},
        )

    def __reduce__(self):  # keeps the attributes when pickled across processes
        return (type(self), (self.path, self.line, self.reason, self.remedy))
