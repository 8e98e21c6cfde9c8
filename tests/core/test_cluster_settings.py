"""What every process of a cluster must agree on, without starting one: the executor settings,
the Celery settings both sides share, the broker URLs from the environment, the lock scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from tardis_assets.lib.cluster.celery_settings import BACKEND_ENV, BROKER_ENV, broker_urls
from tardis_assets.lib.cluster.celery_settings import celery_settings as shared_settings
from tardis_assets.lib.cluster.logscan import lock_lines
from tardis_assets.lib.errors import ConfigError
from tardis_assets.lib.settings import load_settings


def test_executor_defaults_to_in_process_and_follows_the_environment(tmp_path: Path):
    assert load_settings(env={}, cwd=tmp_path).executor.kind == "in_process"
    assert not load_settings(env={}, cwd=tmp_path).executor.distributed
    env = {"TARDIS_EXECUTOR": "celery", "TARDIS_CELERY_VISIBILITY_TIMEOUT": "120"}
    executor = load_settings(env=env, cwd=tmp_path).executor
    assert executor.distributed and executor.visibility_timeout_s == 120


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"TARDIS_EXECUTOR": "threads"}, "unknown"),
        ({"TARDIS_CELERY_VISIBILITY_TIMEOUT": "soon"}, "whole number"),
        ({"TARDIS_CELERY_VISIBILITY_TIMEOUT": "3"}, "too short"),
    ],
)
def test_bad_executor_settings_are_refused(tmp_path: Path, env: dict[str, str], words: str):
    with pytest.raises(ConfigError, match=words):
        load_settings(env=env, cwd=tmp_path)


def test_steps_are_acknowledged_when_they_end():
    settings = shared_settings(90)
    assert settings["task_acks_late"] and settings["task_reject_on_worker_lost"]
    assert settings["worker_prefetch_multiplier"] == 1
    assert settings["broker_transport_options"]["visibility_timeout"] == 90


def test_broker_urls_come_from_the_environment_only():
    with pytest.raises(ConfigError, match=BROKER_ENV):
        broker_urls({BACKEND_ENV: "redis://h:1/1"})
    urls = broker_urls({BROKER_ENV: "redis://h:1/0", BACKEND_ENV: "redis://h:1/1"})
    assert urls == ("redis://h:1/0", "redis://h:1/1")


def test_lock_scan_finds_locks_not_blocked_or_clock():
    texts = [
        ("a.log", "IO Error: Could not set lock on file x.duckdb\nwall clock 3 s"),
        ("b.log", "step blocked by pool llm\nsqlite3.OperationalError: database is locked"),
    ]
    found = lock_lines(texts)
    assert len(found) == 2
    assert found[0].startswith("a.log: IO Error") and found[1].startswith("b.log: sqlite3")
