"""The row rules of ``validate.checks_for``, evaluated on Arrow record batches.

The fast path checks each batch in memory before it is written, with Arrow's vectorized kernels
(which release the GIL, so a batch is checked while the next one is parsed). Each ``Fault`` is
rendered here once, as a mask of the bad rows, from the same ``Check`` the SQL scan renders, and
with SQL's treatment of NULL: a NULL tested value breaks only a MISSING check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from tardis_assets.lib.market.tardis.validate import Check, Fault


def bad_rows(check: Check, values: pa.Array) -> pa.Array:
    """Boolean mask of the rows of ``values`` that break ``check`` (NULL where SQL is NULL)."""
    if check.fault is Fault.MISSING:
        return pc.is_null(values)
    if check.fault is Fault.NON_FINITE:
        return pc.invert(pc.is_finite(values))
    if check.fault is Fault.NON_POSITIVE:
        return pc.less_equal(values, 0)
    if check.fault is Fault.NEGATIVE:
        return pc.less(values, 0)
    if check.fault is Fault.NOT_ALLOWED:
        allowed = pa.array(check.allowed, type=pa.string())
        found = pc.is_in(values, value_set=allowed)  # false for NULL, which breaks nothing here
        return pc.and_(pc.is_valid(values), pc.invert(found))
    lo, hi = check.bounds
    return pc.or_(pc.less(values, lo), pc.greater_equal(values, hi))


def breaks(check: Check, values: pa.Array) -> bool:
    """True when some row of ``values`` (the checked column of one batch) breaks ``check``."""
    if check.fault is Fault.MISSING:
        return values.null_count > 0  # the same rule, read off the count Arrow already keeps
    return pc.any(bad_rows(check, values)).as_py() is True


def first_broken(checks: Sequence[Check], batch: pa.RecordBatch) -> Check | None:
    """The first of ``checks`` that some row of ``batch`` breaks, or None for a clean batch."""
    for check in checks:
        if breaks(check, batch.column(check.column)):
            return check
    return None


@dataclass(frozen=True)
class BadRow:
    """Where a batch first breaks a check, for the message: its row in the batch, the value."""

    row: int
    value: str


def first_bad_row(check: Check, batch: pa.RecordBatch) -> BadRow | None:
    """The first row of ``batch`` breaking ``check`` and its value as text ("(empty)" for NULL)."""
    values = batch.column(check.column)
    mask = pc.fill_null(bad_rows(check, values), False)
    hits = pc.indices_nonzero(mask)
    if len(hits) == 0:
        return None
    row = hits[0].as_py()
    value = values[row].as_py()
    return BadRow(row, "(empty)" if value is None else str(value))
