"""LLM gateway: signals (sentiment, pattern, risk) from OpenAI-compatible providers.

Public API: build `SignalRequest`s, call `run_signals(GatewayConfig(...), requests)` (or the async
`Gateway`), store `GatewayReport.results` and `.ledger`. `OfflineServer` is the keyless stand-in.
"""

from tardis_assets.lib.llm.batch import run_batch, run_signals_batch
from tardis_assets.lib.llm.contracts import (
    KINDS,
    STATUSES,
    VALUE_RANGES,
    GatewayConfig,
    GatewayReport,
    LedgerRow,
    Progress,
    SignalRequest,
    SignalResult,
)
from tardis_assets.lib.llm.gateway import Gateway, run_signals
from tardis_assets.lib.llm.ledger import LLM_CALLS_COLUMNS, LLM_CALLS_DDL, ledger_frame
from tardis_assets.lib.llm.offline_server import Faults, OfflineServer
from tardis_assets.lib.llm.ping import PingResult, ping
from tardis_assets.lib.llm.prompts import PROMPT_VERSION
from tardis_assets.lib.llm.providers import PROVIDERS, default_provider

__all__ = [
    "KINDS",
    "LLM_CALLS_COLUMNS",
    "LLM_CALLS_DDL",
    "PROMPT_VERSION",
    "PROVIDERS",
    "STATUSES",
    "VALUE_RANGES",
    "Faults",
    "Gateway",
    "GatewayConfig",
    "GatewayReport",
    "LedgerRow",
    "OfflineServer",
    "PingResult",
    "Progress",
    "SignalRequest",
    "SignalResult",
    "default_provider",
    "ledger_frame",
    "ping",
    "run_batch",
    "run_signals",
    "run_signals_batch",
]
