"""Clock and instruments of the synthetic world: UTC days, minutes, the 24/7 activity cycle.

Everything else in the package is laid out on this clock: prices on the 1,441 minute anchors of a
day, message counts per minute, the funding schedule. Crypto trades around the clock, so a day has
no open or close; what changes through it is activity (Asian, European and US sessions, quieter
weekends), and that shape drives how many messages, trades and headlines each minute gets.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from tardis_assets.lib.days import US_PER_SECOND

US_PER_MINUTE = 60 * US_PER_SECOND
MINUTES_PER_DAY = 1440
US_PER_DAY = MINUTES_PER_DAY * US_PER_MINUTE
ANCHOR_DAY = date(2020, 1, 1)  # the daily random walk of closes starts here


def base_asset(symbol: str) -> str:
    """BTCUSDT -> BTC, BTC-PERPETUAL -> BTC, XBTUSD -> XBT: what a headline would name."""
    upper = symbol.upper()
    for quote in ("-PERPETUAL", "USDT", "USDC", "-USD", "USD", "PERP"):
        if upper.endswith(quote) and len(upper) > len(quote):
            return upper[: -len(quote)].rstrip("-")
    return upper.split("-")[0]


def activity_profile(day: date) -> np.ndarray:
    """Relative trading activity per minute of a UTC day (scale is arbitrary; shape matters).

    Three session bumps (Asia ~01:30, Europe ~08:00, US ~14:30) and a US-evening one on a floor
    of round-the-clock trading; weekends run at 60%.
    """
    hours = np.arange(MINUTES_PER_DAY) / 60.0

    def bump(center: float, width: float) -> np.ndarray:
        return np.exp(-0.5 * ((hours - center) / width) ** 2)

    profile = 0.5 + 0.6 * bump(1.5, 1.5) + 0.8 * bump(8.0, 1.2) + 1.4 * bump(14.5, 1.8)
    profile += 0.6 * bump(20.0, 1.5)
    if day.weekday() >= 5:
        profile *= 0.6
    return profile
