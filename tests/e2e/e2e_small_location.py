"""The project's definitions with smaller days, as a code location for e2e tests.

Why: the end-to-end test goes through ``dagster dev`` and its backfill daemon, whose 30 s loop
already sets the pace (one loop per layer). Three settings keep each layer inside one daemon
interval on two cores:
- 20k synthetic trades a day instead of 200k;
- 5-minute signal windows: 288 prompts per day and kind instead of 1,440;
- one process per run (the in-process executor, unless the definitions already choose one): with
  the default multiprocess executor every step starts its own Python process (~10-15 s of imports
  on a busy 2-core machine) for ~1 s of work.
Everything else (assets, checks, partitions, the LLM stand-in, paths from TARDIS_DATA_DIR) is the
real code location, built from the same settings.
"""

import dataclasses

import dagster as dg

from tardis_assets.defs.registry import build_definitions
from tardis_assets.lib.settings import load_settings

E2E_TRADES_PER_DAY = 20_000
E2E_WINDOW_MINUTES = 5


def small_definitions() -> dg.Definitions:
    settings = load_settings()
    small = dataclasses.replace(
        settings,
        market=dataclasses.replace(settings.market, synthetic_trades_per_day=E2E_TRADES_PER_DAY),
        # Always the loopback stand-in: no key, no network, no spend in tests.
        llm=dataclasses.replace(
            settings.llm,
            provider="offline",
            base_url=None,
            signals={**settings.llm.signals, "window_minutes": E2E_WINDOW_MINUTES},
        ),
    )
    # One Definitions object at module scope: Dagster refuses a module holding two.
    base = build_definitions(small)
    if base.executor is not None:
        return base
    return dg.Definitions.merge(base, dg.Definitions(executor=dg.in_process_executor))


defs = small_definitions()
