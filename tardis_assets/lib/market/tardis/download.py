"""Optional download of one tardis.dev day through the official ``tardis-dev`` client.

The client (``pip install tardis_assets[tardis]``) writes ``{exchange}_{data_type}_{day}_{SYMBOL}
.csv.gz`` into the inputs folder, the same name ``find_input`` looks for, so a downloaded day and
a hand-placed one are handled identically. tardis.dev serves the first day of each month without
a key; any other day needs ``TARDIS_API_KEY``.

The key is a secret: it is sent only as the client's Authorization header and is scrubbed from
every message this module raises and from the client's log records while the download runs
(a server may echo request headers in an error body).
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import date
from pathlib import Path

from tardis_assets.lib.errors import ProviderError
from tardis_assets.lib.market.tardis.naming import tardis_filename
from tardis_assets.lib.market.tardis.schemas import DATA_TYPES

API_KEY_ENV = "TARDIS_API_KEY"
REDACTED = "***"


class TardisDownloadError(ProviderError):
    """A download that could not be made or did not succeed; never carries the API key.

    Network failures are transient (the asset's retry policy retries them)."""

    retryable = True


def download_allowed(day: date, api_key: str | None) -> bool:
    """tardis.dev gives the first day of every month for free; other days need a key."""
    return bool(api_key) or day.day == 1


class _Redact(logging.Filter):
    """Replaces the key in log records of the client while a download runs."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if self.secret in text:
            record.msg, record.args = text.replace(self.secret, REDACTED), None
        return True


def _scrub(text: str, secret: str | None) -> str:
    return text.replace(secret, REDACTED) if secret else text


def download_day(
    inputs_dir: Path | str,
    exchange: str,
    data_type: str,
    day: date,
    symbol: str,
    *,
    api_key: str | None = None,
    endpoint: str | None = None,
    timeout_s: int = 600,
    deadline_s: float = 3600.0,
) -> Path:
    """Fetch one (exchange, data_type, day, symbol) file into ``inputs_dir``; returns its path.

    ``api_key`` defaults to ``$TARDIS_API_KEY``. ``endpoint`` overrides the datasets API base
    URL (the client's ``endpoint`` argument), e.g. a mirror or a local test server. An existing
    file is kept (the client skips it), so a re-run does not download again. ``timeout_s`` is
    the client's per-socket silence limit; ``deadline_s`` bounds the whole call, since the client
    itself retries 5xx answers for a long time with growing pauses.
    """
    if data_type not in DATA_TYPES:
        raise TardisDownloadError(f"unknown data type {data_type!r}")
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")
    if not download_allowed(day, key):
        raise TardisDownloadError(
            f"{exchange} {data_type} {symbol} {day.isoformat()}: tardis.dev serves only the first "
            f"day of a month without an API key; set {API_KEY_ENV} to download other days"
        )
    try:
        from tardis_dev import DEFAULT_DATASETS_ENDPOINT, download_datasets_async
    except ImportError:
        raise TardisDownloadError(
            "the tardis-dev client is not installed: pip install 'tardis_assets[tardis]'"
        ) from None

    target = Path(inputs_dir)
    target.mkdir(parents=True, exist_ok=True)
    dest = target / tardis_filename(exchange, data_type, day, symbol)
    next_day = date.fromordinal(day.toordinal() + 1)
    client_logger = logging.getLogger("tardis_dev")
    redact = _Redact(key) if key else None
    if redact:
        client_logger.addFilter(redact)
        for name in ("tardis_dev.download_datasets", "tardis_dev._http"):
            logging.getLogger(name).addFilter(redact)
    failure: str | None = None
    try:
        job = download_datasets_async(
            exchange=exchange,
            data_types=[data_type],
            symbols=[symbol],
            from_date=day.isoformat(),
            to_date=next_day.isoformat(),
            api_key=key,
            download_dir=str(target),
            endpoint=endpoint or DEFAULT_DATASETS_ENDPOINT,
            timeout=timeout_s,
        )
        asyncio.run(asyncio.wait_for(job, deadline_s))
    except TimeoutError:
        failure = f"no complete answer within {deadline_s:g}s"
    except Exception as exc:  # anything from the client or aiohttp, reported without the key
        failure = _scrub(f"{type(exc).__name__}: {exc}", key)
    finally:
        if redact:
            client_logger.removeFilter(redact)
            for name in ("tardis_dev.download_datasets", "tardis_dev._http"):
                logging.getLogger(name).removeFilter(redact)
    if failure is not None:
        # raised outside the except block: no exception chain (which may hold the key) rides along
        raise TardisDownloadError(
            f"download of {exchange} {data_type} {symbol} {day.isoformat()} failed: {failure}"
        )
    if not dest.is_file():
        raise TardisDownloadError(
            f"download of {exchange} {data_type} {symbol} {day.isoformat()} produced no file "
            f"{dest.name} in {target}"
        )
    return dest
