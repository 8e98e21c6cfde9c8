"""Order and fill records: column layouts of the numba tables and their growable storage.

An order is one row of two 2-D arrays (int64 and float64 columns), so the kernel touches plain
memory and a run of thousands of orders never creates a Python object per order. Two views of an
order coexist: the matching engine's (``OI_STATUS``, ``OF_LEAVES``), which changes when it
happens, and the strategy's (``OI_KSTATUS``, ``OF_KFILLED``), which changes only when the
response reaches it a response latency later.
"""

from __future__ import annotations

import numpy as np

BUY = 1
SELL = -1

OT_MARKET = 0
OT_LIMIT = 1
ORDER_TYPES = ("market", "limit")

TIF_GTC = 0
TIF_IOC = 1
TIF_POST_ONLY = 2
TIME_IN_FORCE = ("gtc", "ioc", "post_only")

ST_SENT = 0  # on its way to the matching engine
ST_OPEN = 1  # resting in the book (possibly partly filled)
ST_FILLED = 2
ST_CANCELED = 3
ST_EXPIRED = 4  # IOC / market remainder with no liquidity left to take
ST_REJECTED = 5  # post-only that would cross, or nothing to trade against
STATUSES = ("sent", "open", "filled", "canceled", "expired", "rejected")

# why an order was sent
R_SCRIPT = 0
R_SIGNAL = 1
R_STOP_LOSS = 2
R_TAKE_PROFIT = 3
R_HOLDING = 4
REASONS = ("script", "signal", "stop_loss", "take_profit", "holding")

# int columns
OI_SIDE = 0
OI_TYPE = 1
OI_TIF = 2
OI_STATUS = 3
OI_PIDX = 4  # limit price as a tick index
OI_REASON = 5
OI_ATTEMPT = 6  # n-th order sent for the same target
OI_DECIDED = 7  # local time the strategy sent it
OI_ARRIVED = 8  # exchange time it reached the matching engine (-1 before)
OI_DONE = 9  # exchange time it became terminal (-1 while live)
OI_KNOWN = 10  # local time the strategy learned it was terminal (-1 before)
OI_INFO_LTS = 11  # local_timestamp of the newest event the decision had seen
OI_INFO_TS = 12  # exchange timestamp of that event
OI_CANCEL_SENT = 13  # local time a cancel was sent (-1 none)
OI_LEVELS = 14  # price levels taken by its aggressive part
OI_NFILLS = 15
OI_DECISION = 16  # index of the signal decision behind it (-1 none)
OI_KSTATUS = 17  # status as the strategy knows it
OI_COLS = 18

# float columns
OF_PRICE = 0  # limit price (NaN for market orders)
OF_QTY = 1
OF_LEAVES = 2
OF_FILLED = 3
OF_NOTIONAL = 4
OF_FEE = 5
OF_FRONT = 6  # queue ahead (resting orders)
OF_CUM = 7  # trades seen at the price since the last depth update
OF_DEC_MID = 8  # local mid the decision saw
OF_DEC_BID = 9
OF_DEC_ASK = 10
OF_ARR_BID = 11  # exchange best bid/ask when it arrived
OF_ARR_ASK = 12
OF_FRONT0 = 13  # queue ahead when it started resting
OF_KFILLED = 14  # filled quantity the strategy knows of
OF_REF_MID = 15  # local mid at the end of the signal's window (implementation shortfall)
OF_COLS = 16

# fill columns
FI_ORDER = 0
FI_TS = 1  # exchange time
FI_KNOWN = 2  # local time the strategy learns of it
FI_SIDE = 3
FI_MAKER = 4
FI_LEVEL = 5  # 0 = best level, 1 = next, ... (taker); -1 for maker fills
FI_COLS = 6
FF_PRICE = 0
FF_QTY = 1
FF_FEE = 2
FF_MID = 3  # exchange mid just before the fill
FF_POS = 4  # position after the fill
FF_CASH = 5  # cash after the fill
FF_COLS = 6


class Table:
    """A growable pair of int64/float64 2-D arrays; ``n`` rows are in use."""

    def __init__(self, int_cols: int, float_cols: int, capacity: int = 1024) -> None:
        self.i = np.zeros((capacity, int_cols), dtype=np.int64)
        self.f = np.zeros((capacity, float_cols), dtype=np.float64)

    @property
    def capacity(self) -> int:
        return int(self.i.shape[0])

    def grow(self) -> None:
        cap = self.capacity * 2
        i = np.zeros((cap, self.i.shape[1]), dtype=np.int64)
        f = np.zeros((cap, self.f.shape[1]), dtype=np.float64)
        i[: self.capacity] = self.i
        f[: self.capacity] = self.f
        self.i, self.f = i, f


def order_table(capacity: int = 1024) -> Table:
    return Table(OI_COLS, OF_COLS, capacity)


def fill_table(capacity: int = 4096) -> Table:
    return Table(FI_COLS, FF_COLS, capacity)
