"""Perpetual funding settlements from tardis ``derivative_ticker`` rows.

At each funding time an open position pays ``rate * position * mark_price`` (quote units):
longs pay a positive rate and receive a negative one, shorts the reverse. The engine charges
the position the matching engine holds at that exchange time.

Which numbers apply, from the ticker rows (tardis documents ``funding_timestamp`` as the time of
the funding event the row's ``funding_rate`` refers to):

* funding times are the distinct ``funding_timestamp`` values inside the replay range
  ``[start, end)``;
* the rate of a funding time is the ``funding_rate`` of the last row announcing that time with
  ``timestamp <= funding_timestamp`` (the rate in force when it settled), or, for venues that
  publish it only afterwards, of the first such row after it;
* the mark price is the last ``mark_price`` with ``timestamp <= funding_timestamp``, else the
  first one after; with no mark at all the engine uses its book mid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class FundingSchedule:
    time: np.ndarray  # exchange µs, sorted
    rate: np.ndarray
    mark: np.ndarray  # NaN: use the book mid

    def __len__(self) -> int:
        return int(self.time.shape[0])


def empty_schedule() -> FundingSchedule:
    return FundingSchedule(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))


def funding_schedule(ticker: pl.DataFrame | None, start_us: int, end_us: int) -> FundingSchedule:
    """Funding settlements of ``[start_us, end_us)`` from derivative_ticker rows (see module)."""
    if ticker is None or ticker.height == 0:
        return empty_schedule()
    need = ["timestamp", "funding_timestamp", "funding_rate", "mark_price"]
    missing = [c for c in need if c not in ticker.columns]
    if missing:
        raise ValueError(f"derivative_ticker lacks column(s) {missing}")
    rows = ticker.select(
        pl.col("timestamp").cast(pl.Int64),
        pl.col("funding_timestamp").cast(pl.Int64),
        pl.col("funding_rate").cast(pl.Float64),
        pl.col("mark_price").cast(pl.Float64),
    ).with_row_index("_row")
    bad = rows.filter(pl.col("funding_rate").is_not_null() & ~pl.col("funding_rate").is_finite())
    if bad.height:
        raise ValueError(f"derivative_ticker row {bad['_row'][0]} has a non-finite funding_rate")
    announced = rows.filter(
        pl.col("funding_timestamp").is_not_null() & pl.col("funding_rate").is_not_null()
    )
    times = (
        announced.filter(
            (pl.col("funding_timestamp") >= start_us) & (pl.col("funding_timestamp") < end_us)
        )
        .get_column("funding_timestamp")
        .unique()
        .sort()
        .to_numpy()
    )
    marks = rows.filter(pl.col("mark_price").is_not_null() & pl.col("mark_price").is_finite())
    marks = marks.sort("timestamp", "_row")
    mark_ts = marks.get_column("timestamp").to_numpy()
    mark_px = marks.get_column("mark_price").to_numpy()
    rate_out = np.empty(times.shape[0])
    mark_out = np.full(times.shape[0], np.nan)
    for k, f in enumerate(times):
        group = announced.filter(pl.col("funding_timestamp") == f).sort("timestamp", "_row")
        before = group.filter(pl.col("timestamp") <= f)
        pick = before.row(-1, named=True) if before.height else group.row(0, named=True)
        rate_out[k] = pick["funding_rate"]
        if mark_ts.size:
            i = int(np.searchsorted(mark_ts, f, side="right")) - 1
            mark_out[k] = mark_px[i] if i >= 0 else mark_px[0]
    return FundingSchedule(times.astype(np.int64), rate_out, mark_out)
