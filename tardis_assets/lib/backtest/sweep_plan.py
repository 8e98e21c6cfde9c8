"""Planning a sweep's memory and time layout: indicator chunks, time blocks, CSCV snapshots."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numba import njit

from tardis_assets.lib.backtest import kernel as kn


@njit(cache=True, nogil=True)
def max_block_len(bounds: np.ndarray) -> int:
    """Longest block between consecutive bounds."""
    m = 1
    for b in range(bounds.shape[0] - 1):
        m = max(m, bounds[b + 1] - bounds[b])
    return m


@njit(cache=True, nogil=True)
def snapshot(state: np.ndarray, c0: int, c1: int, snap: np.ndarray, part: int) -> None:
    """At the end of CSCV partition ``part`` record cumulative return sums of rows [c0, c1)."""
    if part < 0:
        return
    for k in range(c0, c1):
        snap[k, part, 0] = state[k, kn.S_SUM]
        snap[k, part, 1] = state[k, kn.S_SUMSQ]
        snap[k, part, 2] = state[k, kn.S_N]


def block_bounds(n: int, block: int, n_parts: int) -> tuple[np.ndarray, np.ndarray]:
    """Time-block edges (every ``block`` bars plus the CSCV partition edges) and, per block,
    the partition whose end it is (-1 if none)."""
    part_edges = (
        np.array([len(p) for p in np.array_split(np.arange(n), n_parts)]).cumsum()
        if n_parts
        else np.array([], dtype=np.int64)
    )
    bounds = np.unique(np.concatenate([np.arange(0, n, block), part_edges, [0, n]])).astype(
        np.int64
    )
    snap_at = np.full(bounds.size - 1, -1, dtype=np.int64)
    for p, edge in enumerate(part_edges):
        snap_at[int(np.searchsorted(bounds, edge)) - 1] = p
    return bounds, snap_at


@dataclass(frozen=True)
class Chunk:
    """Windows whose averages sit in the bank together, and the combinations they serve."""

    windows: np.ndarray
    combos: np.ndarray


def plan_chunks(fast: np.ndarray, slow: np.ndarray, max_windows: int) -> list[Chunk]:
    """Group combinations so each chunk needs at most ``max_windows`` averages.

    Fast windows are kept for the whole group (they pair with many slow windows); slow windows
    not already in the group are added in blocks that fill the remaining room.
    """
    if max_windows < 2:
        raise ValueError("the indicator budget must hold at least two moving averages")
    uf = np.unique(fast)
    group = max(1, min(uf.size, max_windows // 2)) if uf.size > max_windows - 1 else uf.size
    chunks: list[Chunk] = []
    for g0 in range(0, uf.size, group):
        fwin = uf[g0 : g0 + group]
        in_group = np.isin(fast, fwin)
        idx = np.flatnonzero(in_group)
        extra = np.setdiff1d(np.unique(slow[idx]), fwin)
        room = max_windows - fwin.size
        if extra.size == 0:
            chunks.append(Chunk(windows=fwin, combos=idx))
            continue
        for b0 in range(0, extra.size, room):
            swin = extra[b0 : b0 + room]
            sel = np.isin(slow[idx], swin)
            if b0 == 0:
                sel |= np.isin(slow[idx], fwin)
            chunks.append(Chunk(windows=np.concatenate([fwin, swin]), combos=idx[sel]))
    return chunks


def lanes(n: int, n_threads: int) -> list[tuple[int, int]]:
    bounds = np.linspace(0, n, n_threads + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]
