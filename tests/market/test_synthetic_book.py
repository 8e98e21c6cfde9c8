"""The synthetic market's parts on their own: book bookkeeping, random streams, units, CSV text."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from numba import njit

from tardis_assets.lib.market.synthetic.book import (
    ASK,
    BID,
    FLAG_BID,
    L2_FLAGS,
    L2_LOCAL,
    L2_LOTS,
    L2_T,
    L2_TICK,
    NO_LEVEL,
    WINDOW_TICKS,
    recenter,
    set_level,
    top_levels,
)
from tardis_assets.lib.market.synthetic.csv_rows import line_bytes, snapshot_lines
from tardis_assets.lib.market.synthetic.frames import Buffers
from tardis_assets.lib.market.synthetic.plan import STATE_DTYPE
from tardis_assets.lib.market.synthetic.rng import geometric, normal, uniform
from tardis_assets.lib.market.synthetic.simulate import SN_LEVELS, SNAPSHOT_DEPTH
from tardis_assets.lib.market.synthetic.units import Decimals, Units
from tardis_assets.lib.market.tardis import column_names, ingest_file


@njit
def _apply(state, sides, ticks, lots):
    """Apply level changes to a fresh book; return (best, far, count) after each one."""
    st = state[0]
    st.emit_l2 = True
    out = np.empty((sides.shape[0], 6), np.int64)
    for i in range(sides.shape[0]):
        st.t = 1000 + i
        st.local = 2000 + i
        set_level(st, sides[i], ticks[i], lots[i])
        for side in range(2):
            out[i, 3 * side] = st.best[side]
            out[i, 3 * side + 1] = st.far[side]
            out[i, 3 * side + 2] = st.count[side]
    return out


@njit
def _recenter_and_top(state, target, margin, depth):
    st = state[0]
    shift = recenter(st, target, margin)
    top = np.empty((2, 2, depth), np.int64)
    top_levels(st, depth, top)
    return shift, top


def fresh_state() -> np.ndarray:
    state = np.zeros(1, STATE_DTYPE)
    state[0]["best"] = NO_LEVEL
    state[0]["far"] = NO_LEVEL
    state[0]["base"] = 600_000
    return state


def test_levels_keep_best_far_and_count_and_write_their_rows() -> None:
    state = fresh_state()
    changes = [
        (BID, 100, 5),  # first bid: best = far
        (BID, 98, 7),  # deeper: new far
        (BID, 101, 3),  # better: new best
        (ASK, 105, 4),
        (ASK, 109, 2),
        (BID, 101, 0),  # best removed: next best is 100
        (BID, 98, 0),  # far removed: next far is 100
        (ASK, 105, 1),  # resize keeps everything
        (ASK, 105, 0),  # ask best removed: 109 is best and far
    ]
    sides, ticks, lots = (np.array(c, dtype=np.int64) for c in zip(*changes, strict=True))
    track = _apply(state, sides, ticks, lots)
    bid = [tuple(r[:3]) for r in track]
    ask = [tuple(r[3:]) for r in track]
    assert bid == [
        (100, 100, 1),
        (100, 98, 2),
        (101, 98, 3),
        (101, 98, 3),
        (101, 98, 3),
        (100, 98, 2),
        (100, 100, 1),
        (100, 100, 1),
        (100, 100, 1),
    ]
    assert ask[3:] == [
        (105, 105, 1),
        (105, 109, 2),
        (105, 109, 2),
        (105, 109, 2),
        (105, 109, 2),
        (109, 109, 1),
    ]
    st = state[0]
    n = st["l2_pending_n"]
    assert n == len(changes)
    rows = st["l2_pending"][:, :n]
    assert rows[L2_TICK].tolist() == (ticks + 600_000).tolist()  # absolute ticks
    assert rows[L2_LOTS].tolist() == lots.tolist()
    assert rows[L2_T].tolist() == list(range(1000, 1000 + n))
    assert rows[L2_LOCAL].tolist() == list(range(2000, 2000 + n))
    assert ((rows[L2_FLAGS] & FLAG_BID) != 0).tolist() == (sides == BID).tolist()


def test_recentering_keeps_every_level_at_its_price() -> None:
    state = fresh_state()
    rel_bids = np.arange(200_000, 199_940, -2)  # 30 bids near the top edge of the window
    rel_asks = np.arange(200_003, 200_063, 2)
    sides = np.array([BID] * 30 + [ASK] * 30, dtype=np.int64)
    ticks = np.concatenate([rel_bids, rel_asks]).astype(np.int64)
    lots = np.arange(1, 61, dtype=np.int64)
    _apply(state, sides, ticks, lots)
    absolute_before = {(s, t + 600_000): q for s, t, q in zip(sides, ticks, lots, strict=True)}
    shift, top = _recenter_and_top(state, np.int64(200_001), np.int64(100_000), 25)
    st = state[0]
    assert shift == 200_001 - WINDOW_TICKS // 2
    assert st["base"] == 600_000 + shift
    assert st["count"].tolist() == [30, 30]
    levels = st["levels"]
    absolute_after = {
        (side, rel + st["base"]): levels[side, rel]
        for side in (BID, ASK)
        for rel in np.flatnonzero(levels[side])
    }
    assert absolute_after == absolute_before
    assert top[0, BID, 0] == 200_000 + 600_000 and top[0, ASK, 0] == 200_003 + 600_000
    assert top[0, BID, :].tolist() == [t + 600_000 for t in rel_bids[:25]]
    # nothing to do while the touch is well inside the window
    assert _recenter_and_top(state, np.int64(WINDOW_TICKS // 2), np.int64(100_000), 25)[0] == 0


def test_a_thin_side_makes_empty_snapshot_cells(tmp_path: Path) -> None:
    """Fewer than 25 levels on a side: tardis leaves those cells empty; so do frame and file."""
    buffers = Buffers.allocate(np.array([0, 0, 0, 1, 0]))
    snap = buffers.snapshots
    snap[:, 0] = -1
    snap[0, 0], snap[1, 0] = 1_740_787_200_000_000, 1_740_787_200_001_000
    for i in range(SNAPSHOT_DEPTH):
        col = SN_LEVELS + 4 * i
        snap[col : col + 2, 0] = (600_010 + i, 1_000 + i)  # 25 asks
        if i < 3:
            snap[col + 2 : col + 4, 0] = (600_000 - i, 2_000)  # 3 bids only
    units = Units.of(0.1, 0.001)
    frame = buffers.frame("book_snapshot_25", 1, "deribit", "BTC-PERPETUAL", units)
    assert frame["bids[2].price"][0] == 59999.8 and frame["bids[3].price"][0] is None
    assert frame["asks[24].amount"][0] == 1.024
    out = np.empty(line_bytes(b"deribit,BTC-PERPETUAL,", 102, 0), np.uint8)
    prefix = np.frombuffer(b"deribit,BTC-PERPETUAL,", np.uint8)
    size = snapshot_lines(snap, 1, prefix, units.as_array(), out)
    line = out[:size].tobytes().decode()
    assert line.endswith(",,\n") and ",59999.8,2," in line
    path = tmp_path / "deribit_book_snapshot_25_2025-03-01_BTC-PERPETUAL.csv"
    path.write_text(",".join(column_names("book_snapshot_25")) + "\n" + line)
    lake = tmp_path / "snap.parquet"
    ingest_file(path, "book_snapshot_25", lake, day=date(2025, 3, 1))
    assert pl.read_parquet(lake).select(frame.columns).equals(frame)


@njit
def _draws(n, key):
    u = np.empty((n, 3))
    z = np.empty(n)
    g = np.empty(n)
    for i in range(n):
        u[i, 0] = uniform(key, i, 0)
        u[i, 1] = uniform(key, i, 1)
        u[i, 2] = uniform(key + np.uint64(1), i, 0)
        z[i] = normal(key, i, 3)
        g[i] = geometric(key, i, 7, 2.5)
    return u, z, g


def test_counter_streams_are_uniform_independent_and_normal() -> None:
    n = 200_000
    u, z, g = _draws(n, np.uint64(0x1234_5678_9ABC_DEF0))
    assert np.abs(u.mean(axis=0) - 0.5).max() < 0.005
    assert np.abs(u.var(axis=0) - 1 / 12).max() < 0.002
    assert u.min() > 0 and u.max() < 1
    counts = np.histogram(u[:, 0], bins=50, range=(0, 1))[0]
    chi2 = ((counts - n / 50) ** 2 / (n / 50)).sum()
    assert chi2 < 90  # 49 degrees of freedom: p ~ 0.0003
    corr = np.corrcoef(np.stack([u[:, 0], u[:, 1], u[:, 2], np.roll(u[:, 0], 1)]))
    assert np.abs(corr[np.triu_indices(4, 1)]).max() < 0.01  # slots, keys, neighbours
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01 and abs((z**4).mean() - 3) < 0.1
    assert abs(g.mean() - 2.5) < 0.03 and g.min() == 1
    again, _, _ = _draws(10, np.uint64(0x1234_5678_9ABC_DEF0))
    assert np.array_equal(again, u[:10])  # a pure function of (key, index, slot)


def test_tick_and_lot_sizes_are_exact_decimals() -> None:
    assert Decimals.of(0.1) == Decimals(1, 1)
    assert Decimals.of(0.25) == Decimals(25, 2)
    assert Decimals.of(5.0) == Decimals(5, 0)
    assert Decimals.of(0.001) == Decimals(1, 3)
    ticks = np.array([600_001, 1, 123_456_789])
    assert Decimals.of(0.1).values(ticks).tolist() == [60000.1, 0.1, 12345678.9]
    assert Decimals.of(0.25).values(np.array([7])).tolist() == [1.75]
    with pytest.raises(ValueError, match="decimal"):
        Decimals.of(1 / 3)
    with pytest.raises(ValueError, match="positive"):
        Decimals.of(0.0)
