"""Quality report over a real Parquet file, with rows that break each rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from tardis_assets.lib.market.tardis import ingest_file, read_file
from tardis_assets.lib.market.tardis.quality import quality_report
from tardis_assets.lib.quality.rules import QualityRules, Severity

INSTRUMENT = "bitmex:XBTUSD"


def judge(rep, rules: QualityRules | None = None):
    return (rules or QualityRules.load()).judge(
        "raw", INSTRUMENT, rep.values(), where="t", data_type="trades", details=rep.details()
    )


DAY = date(2020, 3, 1)
DAY_US = 1583020800000000


def test_clean_fixture_passes(tardis_dir: Path, tmp_path: Path) -> None:
    res = ingest_file(
        tardis_dir / "bitmex_trades_2020-03-01_XBTUSD.csv", "trades", tmp_path / "t.parquet"
    )
    rep = quality_report(res.dest, "trades", DAY)
    # the only finding: the default warning for a long silence (a 10-row excerpt of a day)
    assert [(f.rule.name, f.severity) for f in judge(rep)] == [
        ("longest_silence_seconds", Severity.WARN)
    ]
    assert rep.rows == 10
    assert (rep.rows_outside_day, rep.negative_amounts, rep.non_positive_prices) == (0, 0, 0)
    assert rep.duplicate_trade_ids == 0 and rep.out_of_order_local_timestamps == 0
    # the longest silence runs from the last trade (00:00:03.336743) to the end of the day
    assert rep.longest_gap_start_us == 1583020803336743
    assert rep.longest_gap_seconds == pytest.approx(86400 - 3.336743)
    assert rep.details()["longest_silence_seconds"] == (
        "from 2020-03-01 00:00:03 to 2020-03-02 00:00:00 UTC"
    )


def _write_raw(tmp_path: Path, frame: pl.DataFrame) -> Path:
    """Parquet written directly (bypassing ingest validation) to feed the report bad rows."""
    path = tmp_path / "raw.parquet"
    con = duckdb.connect(config={"python_enable_replacements": False})
    try:
        con.register("f", frame.to_arrow())
        con.sql(f"COPY (SELECT * FROM f) TO '{path}' (FORMAT parquet)")
    finally:
        con.close()
    return path


def test_each_problem_is_counted(tardis_dir: Path, tmp_path: Path) -> None:
    good = read_file(tardis_dir / "bitmex_trades_2020-03-01_XBTUSD.csv", "trades")
    s = 1_000_000
    bad = good.with_columns(
        # row 3 is late (out of order), row 9 is on the next day
        local_timestamp=pl.Series(
            [DAY_US + s, DAY_US + 2 * s, DAY_US + 3 * s, DAY_US + s // 2, DAY_US + 4 * s,
             DAY_US + 5 * s, DAY_US + 3600 * s, DAY_US + 3601 * s, DAY_US + 86_000 * s,
             DAY_US + 86_400 * s + 5]
        ),
        amount=pl.Series([1.0, -2.0, 1, 1, 1, 1, 1, 1, 1, -1]),
        price=pl.Series([8531.5, 8531.5, 0.0] + [8531.5] * 7),
        id=pl.Series(["a", "b", "a", "c", "a", None, None, "d", "e", "f"]),
    )  # fmt: skip
    rep = quality_report(_write_raw(tmp_path, bad), "trades", DAY)
    assert rep.rows == 10
    assert rep.rows_outside_day == 1
    assert rep.negative_amounts == 2
    assert rep.non_positive_prices == 1
    assert rep.duplicate_trade_ids == 2  # "a" three times; empty ids are not duplicates
    assert rep.out_of_order_local_timestamps == 1
    # longest silence: 01:00:01 -> 23:53:20 (then a row past the day: no silence at the end)
    assert rep.longest_gap_seconds == pytest.approx(86_000 - 3601)
    assert rep.longest_gap_start_us == DAY_US + 3601 * s
    # the first offending row of each rule, as a CSV line (row + 2)
    assert rep.first_line("rows_outside_day") == 11
    assert rep.first_line("negative_amounts") == 3
    assert rep.first_line("non_positive_prices") == 4
    assert rep.first_line("duplicate_trade_ids") == 4  # the second "a"
    assert rep.first_line("out_of_order_share") == 5
    errors = {f.rule.name: f for f in judge(rep) if f.severity is Severity.ERROR}
    assert set(errors) == {
        "rows_outside_day",
        "negative_amounts",
        "non_positive_prices",
        "duplicate_trade_ids",
        "out_of_order_share",  # 1 of 10 rows is above the default 0.1% tolerance
    }
    dup = errors["duplicate_trade_ids"].sentence()
    assert "rows repeating a trade id" in dup and "2 rows" in dup and "line 4" in dup

    # limits are data: a looser out-of-order share, a stricter silence that blocks
    custom = QualityRules.load(
        {
            "raw": {
                "out_of_order_share": {"max": 0.2},
                "longest_silence_seconds": {"max": 600, "severity": "error"},
            }
        }
    )
    names = {f.rule.name: f.severity for f in judge(rep, custom)}
    assert "out_of_order_share" not in names
    assert names["longest_silence_seconds"] is Severity.ERROR


def test_order_and_gaps_span_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tardis_assets.lib.market.tardis.quality as quality

    monkeypatch.setattr(quality, "_BATCH_ROWS", 2048)  # small batches: carry-over is exercised
    n = 10_000
    ts = pl.int_range(0, n, eager=True) * 1_000_000 + DAY_US
    ts = ts.scatter([4096], [DAY_US])  # one row jumps back at a batch boundary
    ts = ts.scatter(list(range(7000, n)), (ts[7000:] + 1800 * 1_000_000).to_list())
    frame = pl.DataFrame(
        {
            "exchange": ["x"] * n, "symbol": ["Y"] * n, "timestamp": ts, "local_timestamp": ts,
            "id": [str(i) for i in range(n)], "side": ["buy"] * n, "price": [1.0] * n,
            "amount": [1.0] * n,
        }
    )  # fmt: skip
    rep = quality.quality_report(_write_raw(tmp_path, frame), "trades", DAY)
    assert rep.out_of_order_local_timestamps == 1
    assert rep.longest_gap_seconds == pytest.approx(86400 - (n - 1) - 1800)  # tail of the day
    assert rep.first_line("out_of_order_share") == 4096 + 2


@pytest.mark.parametrize("seed", [1, 2])
def test_repeated_ids_match_a_plain_count(tmp_path: Path, seed: int) -> None:
    """Exact on a day-like file: 300K ids, a few repeated far apart, two exchanges sharing ids."""
    rng = np.random.default_rng(seed)
    n = 300_000
    ids = rng.permutation(n).astype(str).astype(object)
    exchanges = np.where(rng.random(n) < 0.5, "bitmex", "deribit").astype(object)
    repeats = rng.choice(n, size=40, replace=False)
    ids[repeats[:20]] = ids[repeats[20:]]  # 20 rows take another row's id (exchange may differ)
    ids[rng.choice(n, size=50, replace=False)] = None
    frame = pl.DataFrame(
        {
            "exchange": exchanges.tolist(),
            "symbol": ["XBTUSD"] * n,
            "timestamp": DAY_US + np.arange(n) * 1000,
            "local_timestamp": DAY_US + np.arange(n) * 1000 + 7,
            "id": ids.tolist(),
            "side": ["buy"] * n,
            "price": [8531.5] * n,
            "amount": [1.0] * n,
        }
    )
    seen: set[tuple[str, str]] = set()
    expected, first = 0, None
    keys = zip(frame["exchange"].to_list(), frame["id"].to_list(), strict=True)
    for row, key in enumerate(keys):
        if key[1] is None:
            continue
        if key in seen:
            expected += 1
            first = row if first is None else first
        seen.add(key)
    rep = quality_report(_write_raw(tmp_path, frame), "trades", DAY)
    assert expected > 0
    assert rep.duplicate_trade_ids == expected
    assert rep.first_rows["duplicate_trade_ids"] == first
