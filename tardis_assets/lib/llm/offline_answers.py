"""What the offline stand-in answers and bills, as pure functions.

The stand-in (offline_app) and the estimate (estimate.py) both use these, so an estimate for
the offline provider is the bill of the run that follows it, by construction:

- tokens: about 4 characters per token, `ceil(len(text) / 4)` of the concatenated message
  contents (prompt) and of the answer content (completion);
- prompt caching, as OpenAI reports it (`usage.prompt_tokens_details.cached_tokens`): a prompt
  of at least 1,024 tokens whose leading text repeats what the server already computed for the
  same model gets the repeated part reported as cached, in whole blocks of 128 tokens (512
  characters), at least 1,024 tokens; the server remembers every prompt it computed;
- the answer itself comes from the transparent rules in offline_rules.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping
from typing import Any

from tardis_assets.lib.llm import offline_rules
from tardis_assets.lib.llm.prompts import parse_user_payload

CHARS_PER_TOKEN = 4
CACHE_MIN_TOKENS = 1024
CACHE_BLOCK_TOKENS = 128


def tokens(text: str) -> int:
    """The stand-in's deterministic token count."""
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


def prompt_text(messages: list[dict[str, Any]]) -> str:
    return "".join(str(m.get("content", "")) for m in messages)


class PrefixCache:
    """Which prompt prefixes a server has computed, per model (block-aligned hashes)."""

    def __init__(self) -> None:
        self._seen: set[bytes] = set()

    def observe(self, model: str, text: str) -> int:
        """Cached tokens for this prompt, then remember it as computed."""
        block = CACHE_BLOCK_TOKENS * CHARS_PER_TOKEN
        if tokens(text) < CACHE_MIN_TOKENS:
            return 0
        first = CACHE_MIN_TOKENS // CACHE_BLOCK_TOKENS
        n_blocks = len(text) // block
        hashes = [
            hashlib.blake2b(f"{model}\x00{text[: k * block]}".encode(), digest_size=16).digest()
            for k in range(first, n_blocks + 1)
        ]
        cached = 0
        for k in range(len(hashes) - 1, -1, -1):
            if hashes[k] in self._seen:
                cached = (first + k) * CACHE_BLOCK_TOKENS
                break
        self._seen.update(hashes)
        return min(cached, tokens(text))


def check_request(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The messages of a chat body, after the checks a provider makes (ValueError if bad)."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise ValueError("'messages' must be a list")
    fmt = body.get("response_format")
    if fmt is not None:
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind not in ("json_schema", "json_object", "text"):
            raise ValueError(f"response_format.type {kind!r} is not supported")
        if kind == "json_schema" and not isinstance(fmt.get("json_schema", {}).get("schema"), dict):
            raise ValueError("response_format json_schema needs json_schema.schema")
    return messages


def answer_content(messages: list[dict[str, Any]]) -> str:
    """The assistant content the rules give for these messages."""
    return json.dumps(offline_rules.answer(parse_user_payload(messages)), sort_keys=True)


def completion(
    body: Mapping[str, Any], number: int = 0, cached_tokens: int = 0
) -> tuple[dict[str, Any], str]:
    """The full chat completion for a request body; returns (completion, content)."""
    messages = check_request(body)
    content = answer_content(messages)
    prompt_tokens = tokens(prompt_text(messages))
    completion_tokens = tokens(content)
    return (
        {
            "id": f"chatcmpl-offline-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model", "")),
            "system_fingerprint": "offline-rules-v1",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": cached_tokens},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        },
        content,
    )


def billed_usd(log: list[dict[str, Any]], prices: Mapping[str, Any]) -> float:
    """What the stand-in billed for the chat requests in its log, at the given models' prices
    (a routing table's `models`): every computed answer once, replays free."""
    total = 0.0
    for entry in log:
        usage = entry.get("usage")
        if not entry.get("billed") or entry.get("replayed") or not usage:
            continue
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
        model = prices[entry["model"]]
        total += model.cost(usage["prompt_tokens"], usage["completion_tokens"], cached=cached)
    return total
