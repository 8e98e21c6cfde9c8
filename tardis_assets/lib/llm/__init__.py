"""LLM gateway: signals (sentiment, pattern, risk) from OpenAI-compatible providers.

Public API: build `SignalRequest`s and call `run_signals(GatewayConfig(...), requests)`, or build
`Question`s and call `ask_questions` (packed calls, spend journaled in the cache); the async
`Gateway` serves both. `OfflineServer` is the keyless stand-in: importing this package does not
import its web server (uvicorn, starlette), which loads only when a stand-in starts.

Every name is imported from its module on first use (``lib/lazy.py``). ``ping`` is imported
from ``ping.py``: importing a submodule rebinds the package attribute of its name, so such a
name cannot be lazy.
"""

from tardis_assets.lib.lazy import lazy_exports

_LAZY = {
    "ask_questions_batch": "batch",
    "run_batch": "batch",
    "run_questions_batch": "batch",
    "run_signals_batch": "batch",
    "Answer": "contracts",
    "AskReport": "contracts",
    "GatewayConfig": "contracts",
    "GatewayReport": "contracts",
    "KINDS": "contracts",
    "LedgerRow": "contracts",
    "ModelTotals": "contracts",
    "Progress": "contracts",
    "Question": "contracts",
    "STATUSES": "contracts",
    "SignalRequest": "contracts",
    "SignalResult": "contracts",
    "VALUE_RANGES": "contracts",
    "Gateway": "gateway",
    "ask_questions": "gateway",
    "run_signals": "gateway",
    "JournalRow": "journal",
    "Faults": "offline_faults",
    "OfflineServer": "offline_server",
    "PingResult": "ping",
    "PROMPT_VERSION": "prompts",
    "PROVIDERS": "providers",
    "default_provider": "providers",
}

__all__ = [
    "KINDS",
    "PROMPT_VERSION",
    "PROVIDERS",
    "STATUSES",
    "VALUE_RANGES",
    "Answer",
    "AskReport",
    "Faults",
    "Gateway",
    "GatewayConfig",
    "GatewayReport",
    "JournalRow",
    "LedgerRow",
    "ModelTotals",
    "OfflineServer",
    "PingResult",
    "Progress",
    "Question",
    "SignalRequest",
    "SignalResult",
    "ask_questions",
    "ask_questions_batch",
    "default_provider",
    "run_batch",
    "run_questions_batch",
    "run_signals",
    "run_signals_batch",
]

__getattr__ = lazy_exports(__name__, _LAZY)
