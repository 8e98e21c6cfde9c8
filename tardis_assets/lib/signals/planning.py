"""Request planning per kind: which windows ask which questions, and why.

`plan_kind` turns a day's windows of one kind into questions (or, for the baseline design, the
original one-window requests) and one `WindowPlan` per window that records the choice: asked
(and why: every window, schedule, trigger, headlines) or not (between asks, no news). The plan
is a pure function of the windows and the settings, so the estimate and the run agree on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from tardis_assets.lib.llm import Question, SignalRequest
from tardis_assets.lib.llm.packing import headline_item, headline_text, window_item
from tardis_assets.lib.market.synthetic import day_start_us
from tardis_assets.lib.signals.settings import SignalSettings
from tardis_assets.lib.signals.windows import Window

# Why a window's row is what it is (llm_signals.reason).
EVERY_WINDOW = "every_window"  # baseline: every window is asked
SCHEDULE = "schedule"  # pattern/risk: on the cadence
TRIGGER = "trigger"  # pattern/risk: early, a volatility/return trigger fired
HEADLINES = "headlines"  # sentiment: headlines within the horizon
BETWEEN_ASKS = "between_asks"  # pattern/risk: no call; the latest answer stays in effect
NO_NEWS = "no_news"  # sentiment: no headline within the horizon, no call, no view
REASONS = (EVERY_WINDOW, SCHEDULE, TRIGGER, HEADLINES, BETWEEN_ASKS, NO_NEWS)


@dataclass(frozen=True)
class WindowPlan:
    window: Window
    reason: str
    questions: tuple[int, ...] = ()  # indexes into KindPlan.questions (or .requests)
    ages_us: tuple[int, ...] = ()  # sentiment: each headline's age at the window's end


@dataclass
class KindPlan:
    kind: str
    day: date
    design: str
    rows: list[WindowPlan] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    requests: list[SignalRequest] = field(default_factory=list)  # baseline design
    pack_size: int = 1

    @property
    def asked_windows(self) -> int:
        return sum(1 for r in self.rows if r.questions)


def plan_kind(kind: str, windows: list[Window], settings: SignalSettings, day: date) -> KindPlan:
    plan = KindPlan(kind, day, settings.design)
    if settings.design == "baseline":
        for w in windows:
            plan.requests.append(
                SignalRequest(
                    kind, w.exchange, w.symbol, w.start_us, w.window_us, w.features, w.headlines
                )
            )
            plan.rows.append(WindowPlan(w, EVERY_WINDOW, (len(plan.requests) - 1,)))
        return plan
    if kind == "sentiment":
        _plan_sentiment(plan, windows, settings)
    else:
        _plan_cadence(plan, windows, settings)
    return plan


def _plan_sentiment(plan: KindPlan, windows: list[Window], settings: SignalSettings) -> None:
    """One question per distinct headline text; each window aggregates its horizon's."""
    plan.pack_size = settings.sentiment_pack_size
    index: dict[str, int] = {}
    by_instrument: dict[tuple[str, str], list[Window]] = {}
    for w in windows:
        by_instrument.setdefault((w.exchange, w.symbol), []).append(w)
    order: dict[int, WindowPlan] = {}
    for (exchange, symbol), items in by_instrument.items():
        recent: list[tuple[str, int]] = []  # (text, published) within the horizon
        for w in items:
            horizon = settings.sentiment_horizon_windows * w.window_us
            times = w.headline_times_us or tuple(w.start_us for _ in w.headlines)
            recent = [(h, t) for h, t in recent if t >= w.end_us - horizon]
            recent += [(headline_text(h), t) for h, t in zip(w.headlines, times, strict=True)]
            if not recent:
                order[id(w)] = WindowPlan(w, NO_NEWS)
                continue
            qs = []
            for text, _ in recent:
                if text not in index:
                    index[text] = len(plan.questions)
                    plan.questions.append(
                        Question("sentiment", headline_item(text), w.start_us, w.end_us, plan.day,
                                 pack=f"{exchange}|{symbol}|{w.start_us}")
                    )  # fmt: skip
                qs.append(index[text])
            ages = tuple(max(w.end_us - t, 0) for _, t in recent)
            order[id(w)] = WindowPlan(w, HEADLINES, tuple(qs), ages)
    plan.rows = [order[id(w)] for w in windows]


def _triggered(w: Window, settings: SignalSettings) -> bool:
    f = w.features
    if settings.trigger_abs_return is not None:
        o, c = f.get("open"), f.get("close")
        if o and c and o > 0 and c > 0 and abs(math.log(c / o)) >= settings.trigger_abs_return:
            return True
    if settings.trigger_volatility is not None:
        vol = f.get("volatility_30")
        if vol is not None and vol >= settings.trigger_volatility:
            return True
    return False


def _plan_cadence(plan: KindPlan, windows: list[Window], settings: SignalSettings) -> None:
    """Every cadence_windows-th window of the UTC day, plus triggered ones; packed in order."""
    plan.pack_size = settings.pack_size
    midnight = day_start_us(plan.day)
    last_ask: dict[tuple[str, str], int] = {}
    asked_count: dict[tuple[str, str], int] = {}
    for w in windows:
        inst = (w.exchange, w.symbol)
        n = (w.start_us - midnight) // w.window_us
        reason = None
        if n % settings.cadence_windows == 0:
            reason = SCHEDULE
        elif (
            _triggered(w, settings) and n - last_ask.get(inst, -(10**9)) >= settings.trigger_min_gap
        ):
            reason = TRIGGER
        if reason is None:
            plan.rows.append(WindowPlan(w, BETWEEN_ASKS))
            continue
        last_ask[inst] = n
        k = asked_count.get(inst, 0)
        asked_count[inst] = k + 1
        item = window_item(w.exchange, w.symbol, w.start_us, w.window_us, w.features)
        plan.questions.append(
            Question(plan.kind, item, w.start_us, w.end_us, plan.day,
                     pack=f"{w.exchange}|{w.symbol}|{k // settings.pack_size}")
        )  # fmt: skip
        plan.rows.append(WindowPlan(w, reason, (len(plan.questions) - 1,)))
