"""Canonical JSON: one spelling per value, so equal content hashes (and caches) equally.

Cache keys, request bodies and stored records all go through these two helpers; defining them
once guarantees that the text hashed for a key is byte-for-byte the text that is sent.
"""

from __future__ import annotations

import functools
import json
from typing import Any


def canon(obj: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept as is."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@functools.lru_cache(maxsize=4096)
def canon_str(text: str) -> str:
    """A JSON string literal (memoized: model ids and versions repeat on every request)."""
    return json.dumps(text, ensure_ascii=False)
