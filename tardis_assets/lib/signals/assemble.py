"""The `llm_signals` rows of one (day, kind): every window, asked or not, and why.

``available_at`` is simulated time: the end of the window (or of the packed call's last window)
plus the latency the model took. Rows that were not asked keep it null, so the backtest keeps the
latest answer in effect; `no_news` rows are known at their window's end (no call) and end an
older sentiment view.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import polars as pl

from tardis_assets.lib.llm import Answer
from tardis_assets.lib.llm.contracts import STATUS_OK as STATUS_OK_TEXT
from tardis_assets.lib.signals.aggregate import window_sentiment
from tardis_assets.lib.signals.planning import BETWEEN_ASKS, NO_NEWS, KindPlan
from tardis_assets.lib.signals.tables import LLM_SIGNALS

STATUS_NO_NEWS = "no_news"
STATUS_NOT_ASKED = "not_asked"


def _row(plan: KindPlan, w: Any, **values: Any) -> dict[str, Any]:
    base = {
        "date": plan.day,
        "exchange": w.exchange,
        "symbol": w.symbol,
        "bar_start": w.start_us,
        "kind": plan.kind,
        "value": None,
        "confidence": None,
        "label": None,
        "status": STATUS_NOT_ASKED,
        "model": None,
        "model_cutoff": None,
        "available_at": None,
        "request_hash": None,
        "fresh": False,
        "reason": None,
        "answer_bar_start": None,
        "headlines": 0,
    }
    base.update(values)
    return base


def _from_answer(a: Answer) -> dict[str, Any]:
    if a.status != STATUS_OK_TEXT:
        return {"status": a.status, "request_hash": a.key}
    return {
        "status": a.status,
        "value": a.value,
        "confidence": a.confidence,
        "label": a.label,
        "model": a.model,
        "model_cutoff": a.model_cutoff,
        "available_at": a.available_at_us,
        "request_hash": a.key,
        "fresh": True,
    }


def signals_frame(
    plan: KindPlan, answers: Sequence[Answer], half_life_minutes: float
) -> pl.DataFrame:
    """One row per planned window; `answers` align with plan.questions (or plan.requests)."""
    rows: list[dict[str, Any]] = []
    in_effect: dict[tuple[str, str], int] = {}
    half_life_us = half_life_minutes * 60e6
    for wp in plan.rows:
        w, inst = wp.window, (wp.window.exchange, wp.window.symbol)
        if wp.reason == NO_NEWS:
            rows.append(_row(plan, w, status=STATUS_NO_NEWS, reason=NO_NEWS, available_at=w.end_us))
        elif wp.reason == BETWEEN_ASKS:
            rows.append(_row(plan, w, reason=BETWEEN_ASKS, answer_bar_start=in_effect.get(inst)))
        elif plan.kind == "sentiment" and plan.design != "baseline":
            rows.append(_sentiment_row(plan, wp, [answers[i] for i in wp.questions], half_life_us))
        else:
            values = _from_answer(answers[wp.questions[0]])
            if values["status"] == STATUS_OK_TEXT:
                in_effect[inst] = w.start_us
                values["answer_bar_start"] = w.start_us
            rows.append(_row(plan, w, reason=wp.reason, headlines=len(w.headlines), **values))
    frame = pl.DataFrame(
        rows,
        schema={
            **LLM_SIGNALS.polars_schema,
            "bar_start": pl.Int64,
            "available_at": pl.Int64,
            "answer_bar_start": pl.Int64,
        },
        orient="row",
    )
    return LLM_SIGNALS.conform(frame)


def _sentiment_row(plan: KindPlan, wp: Any, got: list[Answer], half_life_us: float) -> dict:
    w = wp.window
    keys = sorted(a.key for a in got)
    digest = keys[0] if len(keys) == 1 else hashlib.sha256(",".join(keys).encode()).hexdigest()
    failed = next((a for a in got if a.status != STATUS_OK_TEXT), None)
    if failed is not None:
        return _row(plan, w, status=failed.status, reason=wp.reason, request_hash=digest,
                    headlines=len(got))  # fmt: skip
    value, confidence = window_sentiment(
        [(float(a.value or 0.0), float(a.confidence or 0.0), age)
         for a, age in zip(got, wp.ages_us, strict=True)],
        half_life_us,
    )  # fmt: skip
    newest = max(got, key=lambda a: a.available_at_us or 0)
    return _row(
        plan, w, status=STATUS_OK_TEXT, value=value, confidence=confidence,
        model=newest.model, model_cutoff=newest.model_cutoff,
        available_at=max(w.end_us, max(a.available_at_us or 0 for a in got)),
        request_hash=digest, fresh=True, reason=wp.reason, answer_bar_start=w.start_us,
        headlines=len(got),
    )  # fmt: skip
