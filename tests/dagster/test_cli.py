"""The CLI reads what the pipeline stored: summary, costs, llm stats, and rejects bad input."""

from __future__ import annotations

from datetime import date

import pytest

from tardis_assets.cli import main
from tardis_assets.defs.pipeline import materialize_days

DAY = date(2025, 3, 1)


@pytest.fixture
def stored(registry, instance, resources, tmp_path, monkeypatch):
    monkeypatch.setenv("TARDIS_DATA_DIR", str(tmp_path / "data"))
    # The daily layers are what these commands read: the range studies would only add minutes.
    materialize_days(registry, [DAY], resources, instance, report=lambda _: None, ranges=False)
    return resources["warehouse"].warehouse()


def test_costs_summary_and_stats_match_the_ledger(stored, capsys):
    spent = stored.read("SELECT round(sum(cost_usd), 6) AS c, count(*) AS n FROM llm_calls").row(0)
    assert main(["costs", "--by", "model"]) == 0
    out = capsys.readouterr().out
    total = next(line for line in out.splitlines() if line.strip().startswith("total"))
    assert str(spent[1]) in total.split() and str(spent[0]) in total.split()
    assert {"deepseek-chat", "gpt-4.1", "claude-3-5-sonnet-20241022"} <= set(out.split())

    assert main(["summary", "--start", DAY.isoformat(), "--days", "1"]) == 0
    lines = [ln.split() for ln in capsys.readouterr().out.splitlines()]
    per_instrument, per_day = [ln for ln in lines if ln and ln[0] == DAY.isoformat()]
    # day, instrument, source, ticks, bars, ...
    assert per_instrument[1] == "binance-futures:BTCUSDT" and per_instrument[4] == "1,440"
    paid = stored.read("SELECT count(*) AS n FROM llm_calls")["n"][0]
    assert per_day[1] == f"{paid:,}"  # the calls the day's signals were paid with

    assert main(["llm", "stats"]) == 0
    out = capsys.readouterr().out
    assert "p95_ms" in out and "sentiment" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["costs", "--days", "0"], "--days must be positive"),
        (["costs"], "no LLM cost data"),
    ],
)
def test_bad_cli_input_is_a_clear_error(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TARDIS_DATA_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    assert main(argv) == 2
    assert message in capsys.readouterr().err
