"""The project's definitions with smaller synthetic days, as a code location for e2e tests.

Why: the end-to-end test goes through ``dagster dev`` and its backfill daemon, whose 30 s loop
already sets the pace. 20k synthetic trades a day (instead of 200k) and one process per run (the
in-process executor, unless the definitions already choose an executor) keep each layer inside one
daemon interval on two cores: with the default multiprocess executor every step starts its own
Python process (~10-15 s of imports each on a busy 2-core machine) for ~1 s of work. Pools still
apply: the in-process executor claims the ``duckdb`` slot per step like the multiprocess one.
Everything else (assets, checks, partitions, LLM stand-in, paths from TARDIS_DATA_DIR) is the real
code location.
"""

import dagster as dg

from tardis_assets.definitions import build_definitions
from tardis_assets.defs.resources import MarketResource

E2E_TRADES_PER_DAY = 20_000


def small_definitions() -> dg.Definitions:
    # One Definitions object at module scope: Dagster refuses a module holding two.
    base = build_definitions(market=MarketResource(synthetic_trades_per_day=E2E_TRADES_PER_DAY))
    if base.executor is not None:
        return base
    return dg.Definitions.merge(base, dg.Definitions(executor=dg.in_process_executor))


defs = small_definitions()
