"""The lake (immutable partition files, atomic replace) and the catalog (views over them)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tardis_assets.lib.errors import ConfigError
from tardis_assets.lib.storage.catalog import Catalog, table_view
from tardis_assets.lib.storage.lake import Lake, parse_root
from tardis_assets.lib.storage.schema import Col, Table

T = Table("t", {"day": Col.DATE, "k": Col.TEXT, "v": Col.FLOAT}, partition_by=("day",))
REPORT = Table("report", {"run_id": Col.TEXT}, ("run_id",), frame_defined=True)
D1, D2 = date(2025, 3, 1), date(2025, 3, 2)


def frame(day: date, values: list[float]) -> pl.DataFrame:
    return pl.DataFrame({"day": [day] * len(values), "k": ["x"] * len(values), "v": values})


def catalog(lake: Lake) -> Catalog:
    return Catalog([table_view(lake, T), table_view(lake, REPORT)])


def test_partition_write_replaces_only_its_partition(tmp_path):
    lake = Lake(tmp_path)
    lake.write(T, {"day": D1}, frame(D1, [1.0, 2.0]))
    lake.write(T, {"day": D2}, frame(D2, [3.0]))
    lake.write(T, {"day": D1}, frame(D1, [5.0]))  # re-run of day 1
    got = catalog(lake).read("SELECT day, v FROM t ORDER BY day, v")
    assert got.rows() == [(D1, 5.0), (D2, 3.0)]
    assert lake.read(T, {"day": D2}).rows() == [(D2, "x", 3.0)]


def test_failed_write_leaves_the_previous_file_byte_identical(tmp_path):
    lake = Lake(tmp_path)
    lake.write(T, {"day": D1}, frame(D1, [1.0]))
    path = lake.partition_file(T, {"day": D1})
    before = path.read_bytes()
    with pytest.raises(ValueError, match="unexpected"):
        lake.write(T, {"day": D1}, frame(D1, [9.0]).with_columns(extra=pl.lit(1)))
    with pytest.raises(ValueError, match="partition"):
        lake.write(T, {"day": D1}, frame(D2, [9.0]))  # rows of another day
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


def test_killed_writer_never_publishes_half_a_file(tmp_path):
    """kill -9 of a process in the middle of writing: the old partition stays, readable."""
    lake = Lake(tmp_path)
    lake.write(T, {"day": D1}, frame(D1, [1.0]))
    script = (
        "import sys, polars as pl; from datetime import date; "
        "sys.path.insert(0, sys.argv[2]); "
        "from tardis_assets.lib.storage.lake import Lake; "
        "from test_lake import T, frame; "
        "lake = Lake(__import__('pathlib').Path(sys.argv[1])); print('go', flush=True); "
        "[lake.write(T, {'day': date(2025, 3, 1)}, frame(date(2025, 3, 1), [float(i)] * 200000)) "
        "for i in range(1000)]"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path), str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "go"
    proc.kill()
    proc.wait(timeout=30)
    got = lake.read(T, {"day": D1})
    assert got is not None and got["v"].n_unique() == 1  # a whole version, never a mix
    assert catalog(lake).read("SELECT count(DISTINCT v) AS n FROM t")["n"][0] == 1


def test_empty_partition_is_written_and_views_keep_types(tmp_path):
    lake = Lake(tmp_path)
    cat = catalog(lake)
    assert cat.read("SELECT count(*) AS n FROM t")["n"][0] == 0  # typed view before any file
    lake.write(T, {"day": D1}, T.empty())
    assert lake.read(T, {"day": D1}).height == 0
    assert cat.read("SELECT count(*) AS n FROM t")["n"][0] == 0
    lake.write(T, {"day": D2}, frame(D2, [3.0]))
    assert cat.read("SELECT v FROM t").rows() == [(3.0,)]  # visible at once, no refresh


def test_frame_defined_table_gains_new_columns(tmp_path):
    lake = Lake(tmp_path)
    cat = catalog(lake)
    assert not cat.exists("report")  # no columns known before the first write
    lake.write(REPORT, {"run_id": "a"}, pl.DataFrame({"run_id": ["a"], "x": [1.0]}))
    lake.write(REPORT, {"run_id": "b"}, pl.DataFrame({"run_id": ["b"], "x": [2.0], "y": [3]}))
    assert cat.read("SELECT run_id, x, y FROM report ORDER BY run_id").rows() == [
        ("a", 1.0, None),
        ("b", 2.0, 3),
    ]


def test_missing_table_is_an_error_not_a_python_variable(tmp_path):
    t = pl.DataFrame({"x": [1]})  # noqa: F841 - would be picked up by replacement scans
    with pytest.raises(duckdb.CatalogException):
        Catalog([]).read("SELECT * FROM t")


def test_readers_and_writers_never_wait_for_a_database_file(tmp_path):
    """A process holding the catalog file open read-write blocks neither reads nor writes."""
    lake = Lake(tmp_path / "lake")
    db = tmp_path / "catalog.duckdb"
    lake.write(T, {"day": D1}, frame(D1, [1.0]))
    catalog(lake).sync(db)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " time.sleep(30)",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        lake.write(T, {"day": D2}, frame(D2, [2.0]))
        assert catalog(lake).read("SELECT count(*) AS n FROM t")["n"][0] == 2
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_sync_mirrors_views_into_the_catalog_file(tmp_path):
    lake = Lake(tmp_path / "lake")
    db = tmp_path / "catalog.duckdb"
    cat = catalog(lake)
    cat.sync(db)  # before any data: the typed view only
    lake.write(T, {"day": D1}, frame(D1, [1.0, 2.0]))
    cat.sync(db)  # the first file turns the typed view into the glob view
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.sql("SELECT sum(v) FROM t").fetchall() == [(3.0,)]
        assert con.sql("SELECT table_type FROM information_schema.tables").fetchall() == [("VIEW",)]
    finally:
        con.close()


def test_lake_roots_are_paths_or_file_uris(tmp_path):
    assert parse_root(f"file://{tmp_path}") == tmp_path
    assert parse_root(str(tmp_path)) == tmp_path
    with pytest.raises(ConfigError, match="s3"):
        parse_root("s3://bucket/lake")
    with pytest.raises(ValueError, match="folder"):
        Lake(tmp_path).partition_file(T, {"day": "../etc"})
