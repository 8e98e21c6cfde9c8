import duckdb
import polars as pl
import pytest

from tardis_assets.lib.warehouse import PartitionWrite, Warehouse, row_counts

DDL = "CREATE TABLE IF NOT EXISTS t (day INTEGER, v DOUBLE)"
LEDGER = "CREATE TABLE IF NOT EXISTS ledger (k VARCHAR, v DOUBLE)"


def frame(day, values):
    return pl.DataFrame(
        {"day": [day] * len(values), "v": values}, schema={"day": pl.Int32, "v": pl.Float64}
    )


def test_partition_write_replaces_only_its_partition(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.write(PartitionWrite("t", frame(1, [1.0, 2.0]), "day = ?", (1,), DDL))
    wh.write(PartitionWrite("t", frame(2, [3.0]), "day = ?", (2,), DDL))
    wh.write(PartitionWrite("t", frame(1, [5.0]), "day = ?", (1,), DDL))  # re-run of day 1
    got = wh.read("SELECT day, v FROM t ORDER BY day, v")
    assert got.rows() == [(1, 5.0), (2, 3.0)]


def test_failed_write_keeps_previous_version_of_every_table(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.write(PartitionWrite("t", frame(1, [1.0]), "day = ?", (1,), DDL))
    broken = pl.DataFrame({"day": [1], "nope": [1.0]})  # column not in the table
    with pytest.raises(duckdb.Error):
        wh.write(
            PartitionWrite("t", frame(1, [9.0]), "day = ?", (1,), DDL),
            PartitionWrite("t", broken, "day = ?", (1,), DDL),
        )
    assert wh.read("SELECT v FROM t").rows() == [(1.0,)]


def test_append_only_inserts_unseen_keys_once(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    rows = pl.DataFrame({"k": ["a", "b"], "v": [1.0, 2.0]})
    for _ in range(2):
        wh.write(PartitionWrite("ledger", rows, "", (), LEDGER, append_only_key=("k",)))
    wh.write(
        PartitionWrite(
            "ledger", pl.DataFrame({"k": ["c"], "v": [3.0]}), "", (), LEDGER, append_only_key=("k",)
        )
    )
    assert row_counts(wh, ["ledger", "missing"]) == {"ledger": 3, "missing": 0}


def test_missing_table_is_an_error_not_a_python_variable(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.execute(["CREATE TABLE other (x INTEGER)"])
    t = pl.DataFrame({"x": [1]})  # noqa: F841 - would be picked up by replacement scans
    with pytest.raises(duckdb.CatalogException):
        wh.read("SELECT * FROM t")


def test_writer_waits_for_another_process_lock(tmp_path):
    """A second process holding the file makes the writer wait, not fail."""
    import subprocess
    import sys

    path = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "time.sleep(1.5); c.close()",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    Warehouse(path).write(PartitionWrite("t", frame(1, [1.0]), "day = ?", (1,), DDL))
    holder.wait(timeout=10)
    assert Warehouse(path).read("SELECT count(*) AS n FROM t")["n"][0] == 1


def test_table_from_frame_schema_when_no_ddl(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    report = pl.DataFrame({"run_id": ["a"], "sharpe": [1.5], "n": [3]})
    for _ in range(2):
        wh.write(PartitionWrite("report", report, "run_id = ?", ("a",), None))
    assert wh.read("SELECT * FROM report").rows() == [("a", 1.5, 3)]


def test_frame_schema_table_gains_new_columns(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.write(
        PartitionWrite(
            "report", pl.DataFrame({"run_id": ["a"], "x": [1.0]}), "run_id = ?", ("a",), None
        )
    )
    grown = pl.DataFrame({"run_id": ["b"], "x": [2.0], "y": [3]})
    wh.write(PartitionWrite("report", grown, "run_id = ?", ("b",), None))
    assert wh.read("SELECT * FROM report ORDER BY run_id").rows() == [
        ("a", 1.0, None),
        ("b", 2.0, 3),
    ]
