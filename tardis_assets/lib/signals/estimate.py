"""`tardis-assets costs --estimate`: what a partition or a range would cost, before the run.

The same plans as the run (planning.py) priced by the gateway's estimator (lib/llm/estimate.py):
calls, tokens, dollars online and in batch, and the questions already owned in the cache. No
HTTP call. For the offline provider it equals the bill of the run that follows on a fresh
stand-in; a range is estimated as one run (a headline bought on day 1 is owned on day 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import polars as pl

from tardis_assets.lib.llm import KINDS, GatewayConfig
from tardis_assets.lib.llm.estimate import Estimate, Estimator
from tardis_assets.lib.signals.planning import KindPlan, plan_kind
from tardis_assets.lib.signals.settings import SignalSettings
from tardis_assets.lib.signals.windows import windows


def estimate_plans(config: GatewayConfig, plans: Sequence[KindPlan]) -> Estimate:
    with Estimator(config) as est:
        for plan in plans:
            if plan.design == "baseline":
                est.add_requests(plan.requests)
            else:
                est.add_questions(plan.questions, plan.pack_size)
        return est.total


def estimate_range(
    config: GatewayConfig,
    settings: SignalSettings,
    days: Iterable[tuple[date, pl.DataFrame, pl.DataFrame]],
    kinds: Sequence[str] = KINDS,
) -> Estimate:
    """Estimate (day, bars, news) inputs for the given kinds, in run order (day, then kind)."""
    plans = []
    for day, bars, news in days:
        items = windows(bars, news, settings.window_minutes, settings.bar_seconds)
        plans += [plan_kind(kind, items, settings, day) for kind in kinds]
    return estimate_plans(config, plans)
