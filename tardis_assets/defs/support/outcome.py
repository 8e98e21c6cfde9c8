"""What stopped a run, as one sentence: a failed blocking check or an expected failure.

A run that ends on an expected failure (bad input, a missing partition, a failed quality gate, a
provider that is down, a budget cap) is reported with the sentence its check or failure carries,
prefixed by the asset (or check) and the partition, and no traceback. Anything else is a bug:
its error, with the stack, is kept for the person who has to fix it.
"""

from __future__ import annotations

import logging
import sys

import dagster as dg

from tardis_assets.lib.errors import TardisAssetsError


class RunStopped(TardisAssetsError):
    """A run stopped on an expected failure; ``sentence()`` is what a person reads."""


class RunCrashed(Exception):
    """A run failed on an unexpected error (a bug): the message holds the error and its stack."""


def _partition(event: dg.DagsterEvent | None, fallback: str | None) -> str | None:
    if event is not None and event.partition:
        return str(event.partition)
    return fallback


def stop_reason(result: dg.ExecuteInProcessResult, partition: str | None) -> RunStopped | None:
    """The expected failure that stopped a finished run, or None (success, or a bug)."""
    for evaluation in result.get_asset_check_evaluations():
        if (
            not evaluation.passed
            and evaluation.blocking
            and evaluation.severity == dg.AssetCheckSeverity.ERROR
        ):
            name = evaluation.asset_check_key.name
            where = evaluation.partition or partition
            prefix = f"{name} {where}" if where else name
            description = evaluation.description or "failed"
            asset = evaluation.asset_check_key.asset_key.to_user_string()
            # A sentence that already names its asset and partition is shown as it is.
            sentence = (
                description if description.startswith(f"{asset} ") else (f"{prefix}: {description}")
            )
            return RunStopped(
                sentence, facts={"check": evaluation.asset_check_key.to_user_string()}
            )
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            # A dg.Failure: the wiring's sentence already names the asset and the partition.
            return RunStopped(data.user_failure_data.description, facts={"step": event.step_key})
    return None


def crash_report(result: dg.ExecuteInProcessResult) -> str:
    """The error and stack of every failed step (for failures that are not expected)."""
    parts = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        cause = error.cause if error is not None and error.cause is not None else error
        text = cause.to_string() if cause is not None else "unknown error"
        parts.append(f"step {event.step_key} failed:\n{text}")
    return "\n".join(parts) or "the run failed without a step failure"


class _BelowError(logging.Filter):
    """Keeps progress and warnings; failures are reported once, as a sentence, by the caller."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.ERROR


@dg.logger(
    config_schema={"log_level": dg.Field(str, default_value="INFO")},
    description="Progress lines on stderr; failures are left to the command's one sentence.",
)
def quiet_console_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    level = logging.getLevelName(init_context.logger_config["log_level"].upper())
    logger = logging.Logger("tardis_assets.run", level=level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    handler.addFilter(_BelowError())
    logger.addHandler(handler)
    return logger
