"""LLM gateway: signals (sentiment, pattern, risk) from OpenAI-compatible providers.

Public API: build `SignalRequest`s and call `run_signals(GatewayConfig(...), requests)`, or build
`Question`s and call `ask_questions` (packed calls, spend journaled in the cache); the async
`Gateway` serves both. `OfflineServer` is the keyless stand-in: importing this package does not
import its web server (uvicorn, starlette), which loads only when a stand-in starts.
"""

from tardis_assets.lib.llm.batch import (
    ask_questions_batch,
    run_batch,
    run_questions_batch,
    run_signals_batch,
)
from tardis_assets.lib.llm.contracts import (
    KINDS,
    STATUSES,
    VALUE_RANGES,
    Answer,
    AskReport,
    GatewayConfig,
    GatewayReport,
    LedgerRow,
    ModelTotals,
    Progress,
    Question,
    SignalRequest,
    SignalResult,
)
from tardis_assets.lib.llm.gateway import Gateway, ask_questions, run_signals
from tardis_assets.lib.llm.journal import JournalRow
from tardis_assets.lib.llm.offline_faults import Faults
from tardis_assets.lib.llm.offline_server import OfflineServer
from tardis_assets.lib.llm.ping import PingResult, ping
from tardis_assets.lib.llm.prompts import PROMPT_VERSION
from tardis_assets.lib.llm.providers import PROVIDERS, default_provider

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
    "ping",
    "run_batch",
    "run_questions_batch",
    "run_signals",
    "run_signals_batch",
]
