"""Cache keys and idempotency keys: what identifies an answer, and what identifies a call.

A cache key covers everything that shapes an answer (provider identity, model, the question,
parameters, schema, prompt version) and never a secret. A packed question's key is built from
its item alone, so how questions are packed into calls never changes which answers are owned.
An idempotency key names one call to one model; it is a pure function of the call's content, so
a run that resumes after a crash sends the very same key and a provider that replays idempotent
requests answers it without billing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from tardis_assets.lib.llm.canonical import canon, canon_str


def cache_key(
    identity: str,
    model: str,
    messages: list[dict[str, str]],
    params: dict[str, Any],
    schema: dict[str, Any],
    prompt_version: str,
) -> str:
    """sha256 of canonical JSON of everything that shapes the answer (never the api key)."""
    return cache_key_from_parts(
        identity, model, canon(messages), canon(params), canon(schema), prompt_version
    )


def cache_key_from_parts(
    identity: str,
    model: str,
    messages_json: str,
    params_json: str,
    schema_json: str,
    prompt_version: str,
) -> str:
    """Same key as `cache_key` from parts already in canonical JSON (sorted keys, compact).

    The hot path serializes the messages once per request and reuses the text for the keys of
    every model in the chain and for the request body.
    """
    text = (
        '{"base_url":' + canon_str(identity)
        + ',"messages":' + messages_json
        + ',"model":' + canon_str(model)
        + ',"params":' + params_json
        + ',"prompt_version":' + canon_str(prompt_version)
        + ',"schema":' + schema_json
        + "}"
    )  # fmt: skip
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pack_key(model: str, unit_keys: Sequence[str]) -> str:
    """Idempotency key of a packed call: the model and its items' cache keys, in order."""
    text = "pack|" + model + "|" + ",".join(unit_keys)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def repair_key(key: str) -> str:
    """The repair retry sends a new body: it needs its own key, or a relay could replay the
    bad answer."""
    return key + "-repair"
