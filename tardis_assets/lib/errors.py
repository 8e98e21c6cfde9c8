"""The project's exception hierarchy: every expected failure is a ``TardisAssetsError``.

An expected failure (a bad input file, a provider that is down, a budget cap, a date the models
already know) must reach a person as one sentence that names what failed, the numbers, and what
to do, with no traceback. Each error therefore carries its message, an optional remedy and a few
plain facts (for asset metadata); the CLI and the Dagster wiring turn any of them into that
sentence without knowing the concrete class. Branches say how to react, not where it happened:

- ``BadInputError``: a file, partition or setting that cannot be accepted; retrying cannot help.
- ``ProviderError``: an external service (an LLM provider, tardis.dev) failed after its retries.
- ``BudgetError``: a USD cap stopped the work before it was paid.
- ``LookAheadError``: the data is older than a model's knowledge cutoff (in-sample).
- ``StorageError``: the lake, the cache or the catalog cannot be used as configured.
- ``OperationError``: tooling around a running Dagster (dev server, GraphQL, backfills) failed.
"""

from __future__ import annotations

from collections.abc import Mapping


class TardisAssetsError(Exception):
    """Base of every expected failure; ``sentence()`` is what a person reads."""

    #: Transient failures may be retried by Dagster's retry policy; bad input never is.
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        remedy: str | None = None,
        facts: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy
        self.facts: dict[str, object] = dict(facts or {})

    def sentence(self) -> str:
        """The message and, when known, what to do about it."""
        if not self.remedy:
            return self.message
        return f"{self.message.rstrip('.')}. {self.remedy}"

    def __str__(self) -> str:
        return self.sentence()


class BadInputError(TardisAssetsError, ValueError):
    """A file, partition or setting that cannot be accepted as it is (never retried)."""


class ConfigError(BadInputError):
    """A configuration file, environment variable or resource field is invalid."""


class MissingInputError(BadInputError):
    """A partition's input does not exist (no file with synthetic data off, upstream missing)."""


class ProviderError(TardisAssetsError):
    """An external service failed after its own retries (LLM provider, tardis.dev)."""


class BudgetError(TardisAssetsError):
    """A USD budget cap stopped the work; nothing beyond the cap was sent."""


class LookAheadError(TardisAssetsError):
    """The requested data is older than a model's knowledge cutoff (the answer would be
    in-sample for the model)."""


class StorageError(TardisAssetsError):
    """The lake, the LLM cache or the catalog cannot be used as configured."""


class OperationError(TardisAssetsError):
    """Tooling around a running Dagster (dev server, GraphQL, backfills) failed."""
