"""Expected failures become one Dagster failure with the error's sentence as its description.

Every asset body runs inside ``expected_failures(asset, partition)``: a ``TardisAssetsError``
raised anywhere below (bad input, a missing upstream partition, a provider that is down, a
budget cap) becomes a ``dg.Failure`` whose description is the one sentence a person reads in
the UI and in the CLI, with the error's facts as metadata. Bad input is never retried; only
errors that say they are transient are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from tardis_assets.lib.errors import TardisAssetsError

# Network and storage hiccups are worth retrying; bad input is not (see expected_failures).
RETRY = dg.RetryPolicy(
    max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


def failure_sentence(asset: str, partition: str | None, exc: TardisAssetsError) -> str:
    where = f"{asset} {partition}" if partition else asset
    return f"{where}: {exc.sentence()}"


def as_failure(asset: str, partition: str | None, exc: TardisAssetsError) -> dg.Failure:
    metadata: dict[str, object] = {
        "error": exc.sentence(),
        "error_kind": type(exc).__name__,
        **{k: v for k, v in exc.facts.items() if isinstance(v, (int, float, str, bool))},
    }
    if partition:
        metadata["partition"] = partition
    return dg.Failure(
        description=failure_sentence(asset, partition, exc),
        metadata=metadata,
        allow_retries=exc.retryable,
    )


@contextmanager
def expected_failures(asset: str, partition: str | None = None) -> Iterator[None]:
    """Turn any ``TardisAssetsError`` raised inside into the asset's ``dg.Failure``."""
    try:
        yield
    except TardisAssetsError as exc:
        raise as_failure(asset, partition, exc) from exc
