"""Register layout of a replay: the scalar state, parameters and message logs the kernel shares.

A replay is resumable at any event (the driver feeds it chunk by chunk and grows tables between
calls), so every scalar it carries lives in these arrays rather than in local variables. Names
are column indices; the arrays themselves are created per run by `new_state` (nothing here is
mutable module state).
"""

from __future__ import annotations

import numpy as np
from numba import njit

NEVER = np.iinfo(np.int64).max

# int state
SI_EXCH_POS = 0  # next event of the current exchange block
SI_LOCAL_POS = 1  # next event of the current local block
SI_N_ORDERS = 2
SI_N_FILLS = 3
SI_REQ_HEAD = 4  # order requests: next to deliver / next free
SI_REQ_TAIL = 5
SI_RESP_HEAD = 6  # responses: next to deliver / next free
SI_RESP_TAIL = 7
SI_DEC_PTR = 8  # next signal decision
SI_REF_PTR = 9  # next window-end reference time
SI_CMD_PTR = 10  # next scripted command
SI_FUND_PTR = 11
SI_GRID_PTR = 12
SI_INFO_LTS = 13  # newest local event seen by the strategy
SI_INFO_TS = 14
SI_N_REST = 15  # resting orders at the matching engine
SI_DIR = 16  # strategy target direction -1/0/+1
SI_WORKING = 17  # order the strategy has working (-1 none)
SI_REASON = 18  # why the current target was set
SI_ATTEMPT = 19  # orders sent for the current target
SI_NEXT_CHECK = 20  # local time of the next working-order check
SI_HOLD_AT = 21  # local time the holding period ends
SI_PASSIVE_SINCE = 22  # local time passive execution of the target began
SI_CROSS = 23  # 1: the rest of the target goes as a market order
SI_DECISION = 24  # decision index behind the current target
SI_STATUS = 25  # why the kernel returned (K_OK / K_GROW)
SI_ENTRY_DECIDED = 26  # local time of the entry decision (holding period start)
SI_COUNT = 27

# float state
SF_POS = 0  # position at the matching engine (base units)
SF_CASH = 1  # cash (quote units): fills, fees and funding
SF_FEES = 2
SF_FUNDING = 3  # funding paid (negative: received)
SF_KPOS = 4  # position as the strategy knows it
SF_KCASH = 5
SF_KAVG = 6  # average entry price of the known position
SF_DESIRED = 7  # position the strategy is working towards
SF_LAST_TRADE = 8  # last trade price at the exchange
SF_LOCAL_LAST_TRADE = 9
SF_LAST_MID = 10  # last finite mid the engine saw (values a position when a side is empty)
SF_COUNT = 11

# int parameters
PI_ENTRY_LAT = 0
PI_RESP_LAT = 1
PI_QUEUE = 2
PI_STYLE = 3  # 0 market, 1 passive
PI_HOLD_US = 4  # 0 = no holding limit
PI_CHECK_US = 5
PI_TIMEOUT_US = 6  # 0 = never cross
PI_CONSUME = 7
PI_FUSE = 8  # quotes refresh the top of a depth book (1) or are the whole book (0)
PI_MAX_LEVELS = 9
PI_STRATEGY = 10  # 0 scripted orders, 1 LLM signals
PI_START = 11
PI_END = 12
PI_COUNT = 13

# float parameters
PF_TICK = 0
PF_INV = 1  # 1/tick when that is an integer, else 0
PF_LOT = 2
PF_MAKER = 3
PF_TAKER = 4
PF_SIZE = 5  # position_size (fraction of equity)
PF_STOP = 6
PF_TP = 7
PF_CAPITAL = 8
PF_QPOW = 9
PF_COUNT = 10

STYLE_MARKET = 0
STYLE_PASSIVE = 1
STRATEGY_SCRIPT = 0
STRATEGY_LLM = 1

# message logs
RQ_TIME = 0
RQ_ORDER = 1
RQ_KIND = 2
RQ_COLS = 3
REQ_NEW = 0
REQ_CANCEL = 1

RS_TIME = 0
RS_ORDER = 1
RS_KIND = 2
RS_FILL = 3
RS_COLS = 4
RESP_ACK = 0
RESP_FILL = 1
RESP_DONE = 2
RESP_CANCEL_REJECT = 3

# kernel return codes
K_OK = 0
K_GROW = 1

# equity marks
EQ_POS = 0
EQ_CASH = 1
EQ_MID = 2
EQ_EQUITY = 3
EQ_FEES = 4
EQ_FUNDING = 5
EQ_COLS = 6

# funding records
FU_POS = 0
FU_MARK = 1
FU_PAYMENT = 2
FU_COLS = 3

# positions in the ``ctx`` tuple every kernel function takes:
# (orders int, orders float, fills int, fills float, state int, state float, params int,
#  params float, response log, resting order ids)
X_OI = 0
X_OF = 1
X_FI = 2
X_FF = 3
X_SI = 4
X_SF = 5
X_PI = 6
X_PF = 7
X_RESP = 8
X_REST = 9

MAX_RESTING = 256


def new_state() -> tuple[np.ndarray, np.ndarray]:
    si = np.zeros(SI_COUNT, dtype=np.int64)
    sf = np.zeros(SF_COUNT, dtype=np.float64)
    si[SI_WORKING] = -1
    si[SI_NEXT_CHECK] = NEVER
    si[SI_HOLD_AT] = NEVER
    si[SI_INFO_LTS] = -1
    si[SI_INFO_TS] = -1
    si[SI_DECISION] = -1
    sf[SF_LAST_TRADE] = np.nan
    sf[SF_LOCAL_LAST_TRADE] = np.nan
    sf[SF_LAST_MID] = np.nan
    return si, sf


@njit(cache=True, nogil=True)
def price_of(pidx: int, pf: np.ndarray) -> float:
    """Decimal price of a tick index (exact division by a power of ten when possible)."""
    inv = pf[PF_INV]
    if inv > 0.0:
        return pidx / inv
    return pidx * pf[PF_TICK]


@njit(cache=True, nogil=True)
def index_of(price: float, pf: np.ndarray) -> int:
    inv = pf[PF_INV]
    if inv > 0.0:
        return int(np.round(price * inv))
    return int(np.round(price / pf[PF_TICK]))
