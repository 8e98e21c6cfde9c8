"""Seeded synthetic market: tardis-format trades, quotes, order book, ticker, and the news.

The demo must exercise every layer honestly, so the synthetic day has what matters to the
pipeline: a 24/7 activity cycle, stochastic volatility, price jumps, aggressor flow that leans
with price moves, and headlines whose sentiment pushes the price over the following minutes (what
gives an LLM sentiment signal something real to find, and a backtest something to lose when it
cheats). Since a tick-level engine replays it, the day is also one consistent limit order book
per instrument: L2 updates are its level changes, quotes its top after each change, snapshots its
top 25 levels, trades take its best level, and the ticker's mark is its mid.

Modules, one concept each: ``world`` (clock, activity cycle), ``news`` (headlines), ``path``
(minute anchors and the continuous fair price), ``rng`` (counter-based draws for the kernels),
``units`` (tick and lot sizes as exact decimals), ``book`` (the order book and its L2 rows),
``ticker`` (funding, mark/index, open interest), ``simulate`` (the per-message event loop),
``plan`` (a day's kernel inputs and state), ``frames`` (tardis frames from kernel buffers),
``csv_rows`` (tardis CSV lines from kernel buffers), ``stream`` (bounded-memory chunking),
``market`` (the parameters and the public methods), ``writers`` (tardis CSV files and Arrow
streams).

Days are independent given the seed, yet prices are continuous across days: each day's path is
pinned to a daily close drawn from a coarse seeded random walk.

Every name is imported from its module on first use (``lib/lazy.py``), so a process that only
needs ``day_start_us`` (bars, news files) never loads numba.

The kernels are cached by numba (``cache=True``), which keys each cached function on its own
source file only: after editing ``book``, ``rng`` or ``ticker`` alone, delete this package's
``__pycache__`` so ``simulate`` and ``csv_rows`` are recompiled with the change.
"""

from tardis_assets.lib.days import day_start_us
from tardis_assets.lib.lazy import lazy_exports

_LAZY = {
    "ANCHOR_DAY": "world",
    "MINUTES_PER_DAY": "world",
    "US_PER_DAY": "world",
    "US_PER_MINUTE": "world",
    "activity_profile": "world",
    "base_asset": "world",
    "NewsEvent": "news",
    "news_frame": "news",
    "CsvFile": "writers",
    "DEFAULT_MAX_ROWS": "stream",
    "FUNDING_PERIOD_US": "ticker",
    "FairPath": "path",
    "OUTPUT_TYPES": "frames",
    "PriceModel": "path",
    "SYNTHETIC_TYPES": "market",
    "SyntheticMarket": "market",
    "record_batches": "writers",
    "write_csv": "writers",
    "write_day_csv": "writers",
}

__all__ = [
    "ANCHOR_DAY",
    "DEFAULT_MAX_ROWS",
    "FUNDING_PERIOD_US",
    "MINUTES_PER_DAY",
    "OUTPUT_TYPES",
    "SYNTHETIC_TYPES",
    "US_PER_DAY",
    "US_PER_MINUTE",
    "CsvFile",
    "FairPath",
    "NewsEvent",
    "PriceModel",
    "SyntheticMarket",
    "activity_profile",
    "base_asset",
    "day_start_us",
    "news_frame",
    "record_batches",
    "write_csv",
    "write_day_csv",
]


__getattr__ = lazy_exports(__name__, _LAZY)
