"""tardis CSV lines straight from the kernel's integer buffers, in numba.

Every number the kernel writes is an integer in a known decimal scale (ticks times the tick size's
digits, lots, funding rates in 1e-8, prices in 1e-2), so a line is digits copied into a byte
buffer: no float formatting at all, which is what a general CSV writer spends most of its time
on. The decimal text parses back to exactly the double the frames hold (both are the correctly
rounded value of the same decimal), so a file ingested by ``ingest_file`` equals the frame.
Trailing fractional zeros are dropped (``44413.1``, ``2``), as tardis files write them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tardis_assets.lib.market.synthetic.book import (
    FLAG_BID,
    FLAG_SNAPSHOT,
    L2_FLAGS,
    L2_LOCAL,
    L2_LOTS,
    L2_T,
    L2_TICK,
)
from tardis_assets.lib.market.synthetic.simulate import (
    Q_ASK_LOTS,
    Q_ASK_TICK,
    Q_BID_LOTS,
    Q_BID_TICK,
    Q_LOCAL,
    Q_T,
    SN_LEVELS,
    SN_LOCAL,
    SN_T,
    TR_BUY,
    TR_ID,
    TR_LOCAL,
    TR_LOTS,
    TR_T,
    TR_TICK,
)
from tardis_assets.lib.market.synthetic.ticker import (
    TI_FUNDING_TS,
    TI_INDEX_E2,
    TI_LAST_TICK,
    TI_LOCAL,
    TI_MARK_E2,
    TI_OPEN_INTEREST_E3,
    TI_PREDICTED_E8,
    TI_RATE_E8,
    TI_T,
)

COMMA, NEWLINE, DOT, MINUS, ZERO = 44, 10, 46, 45, 48
MAX_NUMBER = 24  # bytes of the longest integer or decimal written
# words as byte tuples (immutable; numba compiles them in as constants)
TRUE, FALSE = tuple(b"true"), tuple(b"false")
BID_WORD, ASK_WORD = tuple(b"bid"), tuple(b"ask")
BUY_WORD, SELL_WORD = tuple(b"buy"), tuple(b"sell")


def line_bytes(prefix: bytes, numbers: int, words: int) -> int:
    """Upper bound of one line's bytes: the prefix, ``numbers`` numbers, ``words`` short words."""
    return len(prefix) + numbers * (MAX_NUMBER + 1) + words * 6 + 1


@njit(cache=True, nogil=True)
def _text(out, pos: np.int64, text) -> np.int64:  # pragma: no cover - compiled
    """Copy ``text`` (a uint8 array or a tuple of byte values) to ``out`` at ``pos``."""
    for i in range(len(text)):
        out[pos + i] = text[i]
    return pos + len(text)


@njit(cache=True, nogil=True)
def _int(out, pos: np.int64, value: np.int64) -> np.int64:  # pragma: no cover - compiled
    if value < 0:
        out[pos] = MINUS
        pos += 1
        value = -value
    digits = 1
    rest = value // 10
    while rest > 0:
        digits += 1
        rest //= 10
    for i in range(digits - 1, -1, -1):
        out[pos + i] = ZERO + value % 10
        value //= 10
    return pos + digits


@njit(cache=True, nogil=True)
def _decimal(out, pos: np.int64, scaled: np.int64, decimals: np.int64) -> np.int64:
    """``scaled / 10**decimals`` in plain decimal, trailing fractional zeros dropped."""
    if scaled < 0:
        out[pos] = MINUS
        pos += 1
        scaled = -scaled
    unit = np.int64(1)
    for _ in range(decimals):
        unit *= 10
    pos = _int(out, pos, scaled // unit)
    frac = scaled % unit
    if frac == 0:
        return pos
    out[pos] = DOT
    pos += 1
    width = decimals
    while frac % 10 == 0:
        frac //= 10
        width -= 1
    for i in range(width - 1, -1, -1):
        out[pos + i] = ZERO + frac % 10
        frac //= 10
    return pos + width


@njit(cache=True, nogil=True)
def _sep(out, pos: np.int64, byte: np.int64) -> np.int64:  # pragma: no cover - compiled
    out[pos] = byte
    return pos + 1


@njit(cache=True, nogil=True)
def l2_lines(buf, rows, prefix, units, out) -> np.int64:  # pragma: no cover - compiled
    """incremental_book_L2 lines; ``units`` = (tick multiple, tick decimals, lot multiple, lot
    decimals); returns the bytes written."""
    tick_m, tick_d, lot_m, lot_d = units[0], units[1], units[2], units[3]
    pos = np.int64(0)
    for r in range(rows):
        pos = _text(out, pos, prefix)
        pos = _sep(out, _int(out, pos, buf[L2_T, r]), COMMA)
        pos = _sep(out, _int(out, pos, buf[L2_LOCAL, r]), COMMA)
        flags = buf[L2_FLAGS, r]
        if flags & FLAG_SNAPSHOT:
            pos = _sep(out, _text(out, pos, TRUE), COMMA)
        else:
            pos = _sep(out, _text(out, pos, FALSE), COMMA)
        if flags & FLAG_BID:
            pos = _sep(out, _text(out, pos, BID_WORD), COMMA)
        else:
            pos = _sep(out, _text(out, pos, ASK_WORD), COMMA)
        pos = _sep(out, _decimal(out, pos, buf[L2_TICK, r] * tick_m, tick_d), COMMA)
        pos = _sep(out, _decimal(out, pos, buf[L2_LOTS, r] * lot_m, lot_d), NEWLINE)
    return pos


@njit(cache=True, nogil=True)
def quote_lines(buf, rows, prefix, units, out) -> np.int64:  # pragma: no cover - compiled
    tick_m, tick_d, lot_m, lot_d = units[0], units[1], units[2], units[3]
    pos = np.int64(0)
    for r in range(rows):
        pos = _text(out, pos, prefix)
        pos = _sep(out, _int(out, pos, buf[Q_T, r]), COMMA)
        pos = _sep(out, _int(out, pos, buf[Q_LOCAL, r]), COMMA)
        pos = _sep(out, _decimal(out, pos, buf[Q_ASK_LOTS, r] * lot_m, lot_d), COMMA)
        pos = _sep(out, _decimal(out, pos, buf[Q_ASK_TICK, r] * tick_m, tick_d), COMMA)
        pos = _sep(out, _decimal(out, pos, buf[Q_BID_TICK, r] * tick_m, tick_d), COMMA)
        pos = _sep(out, _decimal(out, pos, buf[Q_BID_LOTS, r] * lot_m, lot_d), NEWLINE)
    return pos


@njit(cache=True, nogil=True)
def trade_lines(buf, rows, prefix, units, out) -> np.int64:  # pragma: no cover - compiled
    tick_m, tick_d, lot_m, lot_d = units[0], units[1], units[2], units[3]
    pos = np.int64(0)
    for r in range(rows):
        pos = _text(out, pos, prefix)
        pos = _sep(out, _int(out, pos, buf[TR_T, r]), COMMA)
        pos = _sep(out, _int(out, pos, buf[TR_LOCAL, r]), COMMA)
        pos = _sep(out, _int(out, pos, buf[TR_ID, r]), COMMA)
        if buf[TR_BUY, r]:
            pos = _sep(out, _text(out, pos, BUY_WORD), COMMA)
        else:
            pos = _sep(out, _text(out, pos, SELL_WORD), COMMA)
        pos = _sep(out, _decimal(out, pos, buf[TR_TICK, r] * tick_m, tick_d), COMMA)
        pos = _sep(out, _decimal(out, pos, buf[TR_LOTS, r] * lot_m, lot_d), NEWLINE)
    return pos


@njit(cache=True, nogil=True)
def snapshot_lines(buf, rows, prefix, units, out) -> np.int64:  # pragma: no cover - compiled
    """book_snapshot lines; a level with tick -1 (a thinner side) is two empty cells."""
    tick_m, tick_d, lot_m, lot_d = units[0], units[1], units[2], units[3]
    cells = buf.shape[0] - SN_LEVELS
    pos = np.int64(0)
    for r in range(rows):
        pos = _text(out, pos, prefix)
        pos = _sep(out, _int(out, pos, buf[SN_T, r]), COMMA)
        pos = _int(out, pos, buf[SN_LOCAL, r])
        for c in range(0, cells, 2):
            tick = buf[SN_LEVELS + c, r]
            pos = _sep(out, pos, COMMA)
            if tick >= 0:
                pos = _decimal(out, pos, tick * tick_m, tick_d)
            pos = _sep(out, pos, COMMA)
            if tick >= 0:
                pos = _decimal(out, pos, buf[SN_LEVELS + c + 1, r] * lot_m, lot_d)
        pos = _sep(out, pos, NEWLINE)
    return pos


@njit(cache=True, nogil=True)
def ticker_lines(buf, rows, prefix, units, out) -> np.int64:  # pragma: no cover - compiled
    tick_m, tick_d = units[0], units[1]
    pos = np.int64(0)
    for r in range(rows):
        pos = _text(out, pos, prefix)
        pos = _sep(out, _int(out, pos, buf[TI_T, r]), COMMA)
        pos = _sep(out, _int(out, pos, buf[TI_LOCAL, r]), COMMA)
        pos = _sep(out, _int(out, pos, buf[TI_FUNDING_TS, r]), COMMA)
        pos = _sep(out, _decimal(out, pos, buf[TI_RATE_E8, r], 8), COMMA)
        pos = _sep(out, _decimal(out, pos, buf[TI_PREDICTED_E8, r], 8), COMMA)
        pos = _sep(out, _decimal(out, pos, buf[TI_OPEN_INTEREST_E3, r], 3), COMMA)
        pos = _sep(out, _decimal(out, pos, buf[TI_LAST_TICK, r] * tick_m, tick_d), COMMA)
        pos = _sep(out, _decimal(out, pos, buf[TI_INDEX_E2, r], 2), COMMA)
        pos = _sep(out, _decimal(out, pos, buf[TI_MARK_E2, r], 2), NEWLINE)
    return pos
