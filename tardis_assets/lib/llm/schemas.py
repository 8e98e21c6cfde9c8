"""JSON schemas per signal kind and the strict validator of model answers.

The validator is hand-written rather than a generic JSON-Schema engine so that the rules a trading
signal must obey (ranges, enum, finite numbers) are explicit and fail loudly: an answer outside the
schema is a `parse_error`, never clamped and never replaced by a default.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from tardis_assets.lib.errors import ProviderError

PATTERN_LABELS: dict[str, float] = {"BUY": 1.0, "HOLD": 0.0, "SELL": -1.0}

_RATIONALE = {"type": "string", "maxLength": 400}

SCHEMAS: dict[str, dict[str, Any]] = {
    "sentiment": {
        "type": "object",
        "properties": {
            "score": {"type": "number", "minimum": -1.0, "maximum": 1.0},
            "confidence": {"type": "number", "minimum": 0.0, "maximum": 1.0},
            "rationale": _RATIONALE,
        },
        "required": ["score", "confidence", "rationale"],
        "additionalProperties": False,
    },
    "pattern": {
        "type": "object",
        "properties": {
            "signal": {"type": "string", "enum": list(PATTERN_LABELS)},
            "confidence": {"type": "number", "minimum": 0.0, "maximum": 1.0},
            "rationale": _RATIONALE,
        },
        "required": ["signal", "confidence", "rationale"],
        "additionalProperties": False,
    },
    "risk": {
        "type": "object",
        "properties": {
            "score": {"type": "number", "minimum": 0.0, "maximum": 1.0},
            "confidence": {"type": "number", "minimum": 0.0, "maximum": 1.0},
            "rationale": _RATIONALE,
        },
        "required": ["score", "confidence", "rationale"],
        "additionalProperties": False,
    },
}


class SchemaError(ProviderError):
    """The model's answer is not valid for the kind's schema."""


@dataclass(frozen=True)
class Parsed:
    """A validated answer reduced to the numbers the warehouse stores."""

    value: float
    confidence: float
    label: str | None


def response_format(kind: str, json_schema: bool) -> dict[str, Any]:
    """The OpenAI `response_format` for a kind: strict json_schema where supported."""
    if not json_schema:
        return {"type": "json_object"}
    return {
        "type": "json_schema",
        "json_schema": {"name": f"{kind}_signal", "strict": True, "schema": SCHEMAS[kind]},
    }


def _number(obj: dict[str, Any], key: str, lo: float, hi: float) -> float:
    raw = obj.get(key)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise SchemaError(f"field {key!r} must be a number, got {type(raw).__name__}")
    val = float(raw)
    if not math.isfinite(val) or val < lo or val > hi:
        raise SchemaError(f"field {key!r}={raw!r} is outside [{lo}, {hi}]")
    return val


def load_object(content: str | None) -> dict[str, Any]:
    """The answer text as a JSON object, or SchemaError saying why not."""
    if content is None or not content.strip():
        raise SchemaError("empty answer")
    try:
        obj = json.loads(content)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"answer is not valid JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(obj, dict):
        raise SchemaError(f"answer must be a JSON object, got {type(obj).__name__}")
    return obj


def parse_answer(kind: str, content: str | None) -> Parsed:
    """Parse and validate the assistant message content; raise SchemaError with the reason."""
    return validate_object(kind, load_object(content))


def validate_object(kind: str, obj: dict[str, Any]) -> Parsed:
    """Validate one answer object against the kind's schema (strict: never clamped)."""
    schema = SCHEMAS[kind]
    missing = [k for k in schema["required"] if k not in obj]
    if missing:
        raise SchemaError(f"missing fields {missing}")
    extra = sorted(set(obj) - set(schema["properties"]))
    if extra:
        raise SchemaError(f"unexpected fields {extra}")
    if not isinstance(obj["rationale"], str):
        raise SchemaError("field 'rationale' must be a string")
    confidence = _number(obj, "confidence", 0.0, 1.0)
    if kind == "sentiment":
        return Parsed(_number(obj, "score", -1.0, 1.0), confidence, None)
    if kind == "risk":
        return Parsed(_number(obj, "score", 0.0, 1.0), confidence, None)
    signal = obj["signal"]
    if signal not in PATTERN_LABELS:
        raise SchemaError(f"field 'signal'={signal!r} is not one of {list(PATTERN_LABELS)}")
    return Parsed(PATTERN_LABELS[signal], confidence, signal)
