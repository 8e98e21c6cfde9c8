"""Transparent, deterministic rules the offline stand-in answers with.

They are deliberately simple (a word lexicon, RSI/MACD thresholds, scaled volatility) so a user
can predict every answer and the pipeline can run end to end with no key and no network.
"""

from __future__ import annotations

import re
from typing import Any

POSITIVE = frozenset(
    {
        "surge",
        "surges",
        "rally",
        "rallies",
        "gain",
        "gains",
        "bullish",
        "record",
        "approve",
        "approves",
        "approved",
        "approval",
        "adoption",
        "rise",
        "rises",
        "soar",
        "soars",
        "jump",
        "jumps",
        "upgrade",
        "upgrades",
        "inflow",
        "inflows",
        "partnership",
        "beat",
        "beats",
        "high",
        "highs",
        "breakout",
        "recovery",
        "recovers",
        "boost",
        "boosts",
        "strong",
        "optimism",
    }
)
NEGATIVE = frozenset(
    {
        "crash",
        "crashes",
        "plunge",
        "plunges",
        "hack",
        "hacked",
        "ban",
        "bans",
        "lawsuit",
        "bearish",
        "selloff",
        "sell-off",
        "drop",
        "drops",
        "fall",
        "falls",
        "outflow",
        "outflows",
        "liquidation",
        "liquidations",
        "fraud",
        "exploit",
        "downgrade",
        "downgrades",
        "fear",
        "fears",
        "slump",
        "slumps",
        "weak",
        "warning",
        "probe",
        "collapse",
        "collapses",
        "low",
        "lows",
    }
)
_WORD = re.compile(r"[a-z][a-z\-]*")

# 1-minute log-return std at which risk saturates to 1.0 (0.4% per minute is a violent market).
RISK_VOL_SATURATION = 0.004


def sentiment(headlines: list[str]) -> dict[str, Any]:
    """Lexicon score: (positive - negative) / hits over all headlines."""
    pos = neg = 0
    for line in headlines:
        for word in _WORD.findall(str(line).lower()):
            pos += word in POSITIVE
            neg += word in NEGATIVE
    hits = pos + neg
    if not headlines:
        return {"score": 0.0, "confidence": 0.1, "rationale": "no headlines in the window"}
    if hits == 0:
        return {"score": 0.0, "confidence": 0.2, "rationale": "no lexicon words in headlines"}
    score = round((pos - neg) / hits, 4)
    confidence = round(min(1.0, 0.3 + 0.1 * hits), 4)
    return {
        "score": score,
        "confidence": confidence,
        "rationale": f"{pos} positive and {neg} negative lexicon words",
    }


def pattern(features: dict[str, Any]) -> dict[str, Any]:
    """RSI/MACD rules: oversold with rising momentum buys, overbought with falling sells."""
    rsi = features.get("rsi_14")
    hist = features.get("macd_hist")
    if rsi is None or hist is None:
        return {"signal": "HOLD", "confidence": 0.2, "rationale": "indicators not warmed up"}
    if rsi < 30 and hist > 0:
        return {"signal": "BUY", "confidence": 0.8, "rationale": "RSI oversold, MACD turning up"}
    if rsi > 70 and hist < 0:
        return {"signal": "SELL", "confidence": 0.8, "rationale": "RSI overbought, MACD down"}
    if hist > 0 and rsi < 60:
        return {"signal": "BUY", "confidence": 0.55, "rationale": "MACD histogram positive"}
    if hist < 0 and rsi > 40:
        return {"signal": "SELL", "confidence": 0.55, "rationale": "MACD histogram negative"}
    return {"signal": "HOLD", "confidence": 0.5, "rationale": "no clear pattern"}


def risk(features: dict[str, Any]) -> dict[str, Any]:
    """Risk = 30-bar volatility scaled to [0, 1]."""
    vol = features.get("volatility_30")
    if vol is None:
        ret = features.get("ret_1")
        if ret is None:
            return {"score": 0.5, "confidence": 0.1, "rationale": "no volatility estimate"}
        score = min(1.0, abs(float(ret)) / RISK_VOL_SATURATION)
        return {"score": round(score, 4), "confidence": 0.3, "rationale": "from last return"}
    score = min(1.0, max(0.0, float(vol) / RISK_VOL_SATURATION))
    return {"score": round(score, 4), "confidence": 0.7, "rationale": f"volatility_30={vol:.6g}"}


def answer(payload: dict[str, Any]) -> dict[str, Any]:
    """The rule answer for a parsed prompt payload (prompts.user_payload, or a packed
    document with `items` from packing.packed_messages: one answer per item, with its id)."""
    kind = payload.get("kind")
    if "items" in payload:
        items = payload["items"]
        if not isinstance(items, list):
            raise ValueError("'items' must be a list")
        return {"items": [{"id": str(it.get("id")), **_item(kind, it)} for it in items]}
    if kind == "sentiment":
        return sentiment(list(payload.get("untrusted_headlines") or []))
    if kind == "pattern":
        return pattern(dict(payload.get("features") or {}))
    if kind == "risk":
        return risk(dict(payload.get("features") or {}))
    raise ValueError(f"unknown kind {kind!r}")


def _item(kind: Any, item: dict[str, Any]) -> dict[str, Any]:
    if kind == "sentiment":
        return sentiment([str(item.get("untrusted_headline", ""))])
    if kind == "pattern":
        return pattern(dict(item.get("features") or {}))
    if kind == "risk":
        return risk(dict(item.get("features") or {}))
    raise ValueError(f"unknown kind {kind!r}")
