"""Exports people can use: CSV numbers as they read, Excel's row limit, file modes, BIGINT counts, and the
DuckDB file that DuckDB's 1.x drivers (Tableau's JDBC route) open."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import pytest

from metanprom.delivery import export as export_module
from metanprom.delivery.export import PUBLIC_MARTS, ExportError, export

#: DuckDB 1.x releases that must read the file: the oldest the default storage version claims, 1.1 and the newest.
DUCKDB_READERS = ("1.0.0", "1.1.3", "1.5.6")


@pytest.fixture(scope="module")
def exported(shipped_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "exports"
    export(shipped_warehouse, out, log=lambda _: None)
    return out


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _significant_digits(text: str) -> int:
    digits = text.replace(",", "").replace("-", "").lstrip("0")
    return len(digits.rstrip("0")) if "," in text else len(digits)


def test_csv_booleans_are_1_and_0_and_money_has_two_decimals(exported: Path, shipped_warehouse: Path) -> None:
    rows = _csv(exported / "csv" / "customers.csv")
    con = duckdb.connect(str(shipped_warehouse), read_only=True)
    truth = {
        r[0]: r[1:]
        for r in con.execute(
            "select customer_key, is_churned, has_credit_card, balance, estimated_salary from customers"
        ).fetchall()
    }
    con.close()
    assert len(rows) == len(truth)
    for row in rows:
        churned, card, balance, salary = truth[row["customer_key"]]
        assert row["is_churned"] == ("1" if churned else "0")
        assert row["has_credit_card"] == ("1" if card else "0")
        assert re.fullmatch(r"-?\d+,\d{2}", row["estimated_salary"]), row["estimated_salary"]
        assert _number(row["estimated_salary"]) == pytest.approx(salary, abs=0.005 + 1e-9)
        if balance is None:
            assert row["balance"] == ""
        else:
            assert _number(row["balance"]) == pytest.approx(balance, abs=0.005 + 1e-9)


def test_csv_p_values_are_plain_decimals_with_minus_log10_beside_them(exported: Path, shipped_warehouse: Path) -> None:
    rows = _csv(exported / "csv" / "hypothesis_results.csv")
    con = duckdb.connect(str(shipped_warehouse), read_only=True)
    truth = {
        (r[0], r[1]): r[2:]
        for r in con.execute(
            "select hypothesis_id, extract, p_value, p_value_adjusted from hypothesis_results"
        ).fetchall()
    }
    con.close()
    tiny = 0
    for row in rows:
        p, adjusted = truth[(row["hypothesis_id"], row["extract"])]
        assert re.fullmatch(r"\d,\d{6}", row["p_value"]), row["p_value"]
        assert _number(row["p_value"]) == pytest.approx(p, abs=5e-7)
        assert _number(row["p_value_adjusted_neg_log10"]) == pytest.approx(-math.log10(adjusted), abs=0.005 + 1e-9)
        tiny += p < 1e-10
    assert tiny >= 3, "the shipped sample has p-values far below 1e-6, which -log10 keeps readable"


def test_csv_rates_have_six_significant_digits_and_no_exponent(exported: Path, shipped_warehouse: Path) -> None:
    rows = _csv(exported / "csv" / "churn_by_feature.csv")
    con = duckdb.connect(str(shipped_warehouse), read_only=True)
    truth = {
        (r[0], r[1], r[2]): r[3:]
        for r in con.execute(
            "select extract, feature, feature_value, churn_rate, lift from churn_by_feature"
        ).fetchall()
    }
    con.close()
    for row in rows:
        rate, lift = truth[(row["extract"], row["feature"], row["feature_value"])]
        for text, value in ((row["churn_rate"], rate), (row["lift"], lift)):
            assert _significant_digits(text) <= 6, text
            assert _number(text) == pytest.approx(value, rel=5e-6), text
    for path in (exported / "csv").glob("*.csv"):
        assert not re.search(r"(^|;)-?\d+(,\d+)?[eE][-+]?\d+(;|$)", path.read_text(encoding="utf-8-sig"), re.M), path


def test_the_dictionary_gives_every_columns_csv_format(exported: Path) -> None:
    rows = _csv_dictionary(exported / "data_dictionary.csv")
    formats = set(export_module.CSV_FORMATS.values())
    assert rows and all(r["csv_format"] in formats for r in rows)
    by_column = {(r["mart"], r["column"]): r["csv_format"] for r in rows}
    assert by_column[("customers", "balance")] == export_module.CSV_FORMATS["money"]
    assert by_column[("customers", "is_churned")] == export_module.CSV_FORMATS["boolean"]
    assert by_column[("hypothesis_results", "p_value")] == export_module.CSV_FORMATS["p_value"]


def _csv_dictionary(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_marts_larger_than_an_excel_sheet_get_no_csv(shipped_warehouse: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(export_module, "EXCEL_MAX_DATA_ROWS", 15_000)
    out = tmp_path / "exports"
    export(shipped_warehouse, out, marts=("customers", "segment_summary"), log=lambda _: None)
    assert not (out / "csv" / "customers.csv").exists(), "about 20,000 rows do not fit"
    assert (out / "csv" / "segment_summary.csv").exists()
    assert (out / "parquet" / "customers.parquet").exists() and (out / "hyper" / "customers.hyper").exists()
    assert json.loads((out / "export.json").read_text())["csv_left_out"] == ["customers"]
    dictionary = (out / "data_dictionary.md").read_text(encoding="utf-8")
    section = dictionary.split("## customers")[1].split("## ")[0]
    customers = json.loads((out / "export.json").read_text())["rows"]["customers"]
    assert customers > 15_000
    assert "No CSV" in section and f"{customers:,} rows" in section
    assert "No CSV" not in dictionary.split("## segment_summary")[1]


@pytest.mark.parametrize(("umask", "folder", "file"), [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600)])
def test_exports_are_readable_as_the_users_umask_says(shipped_warehouse: Path, tmp_path: Path, umask, folder, file):
    previous = os.umask(umask)
    try:
        out = tmp_path / "exports"
        export(shipped_warehouse, out, marts=("segment_summary",), log=lambda _: None)
    finally:
        os.umask(previous)
    paths = [out, *out.rglob("*")]
    assert any(p.suffix == ".hyper" for p in paths) and any(p.suffix == ".duckdb" for p in paths)
    for path in paths:
        assert path.stat().st_mode & 0o777 == (folder if path.is_dir() else file), path


def test_counts_are_bigint_end_to_end(exported: Path, shipped_warehouse: Path) -> None:
    con = duckdb.connect(str(shipped_warehouse), read_only=True)
    for mart in PUBLIC_MARTS:
        types = dict(con.execute(f"select column_name, column_type from (describe main.{mart})").fetchall())
        assert "HUGEINT" not in types.values(), mart
        parquet = dict(
            duckdb.execute(
                "select column_name, column_type from (describe select * from read_parquet(?))",
                [str(exported / "parquet" / f"{mart}.parquet")],
            ).fetchall()
        )
        internal = {c: types.pop(c) for c in export_module.INTERNAL_COLUMNS if c in types}
        assert not internal.keys() & parquet.keys(), f"{mart}: internal columns are left out of the export"
        assert parquet.keys() == types.keys(), mart
        for column, kind in types.items():
            if kind in ("BIGINT", "INTEGER"):
                assert parquet[column] == kind, (mart, column)
    assert (
        dict(con.execute("select column_name, column_type from (describe segment_comparison)").fetchall())[
            "customers_bank_scrooge"
        ]
        == "BIGINT"
    )
    con.close()


def test_a_storage_version_duckdb_cannot_write_is_refused(shipped_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "exports"
    with pytest.raises(ExportError, match=export_module.DUCKDB_STORAGE_ENV):
        export(shipped_warehouse, out, marts=("segment_summary",), duckdb_storage="latest", log=lambda _: None)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def _reader(version: str) -> Path:
    """A throwaway environment (never the project's .venv) with DuckDB `version`, cached between runs."""
    home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "metanprom" / f"duckdb-{version}"
    python = home / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(home)], check=True)
        result = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"duckdb=={version}"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            if os.environ.get("CI"):
                pytest.fail(f"could not install duckdb=={version} from PyPI: {result.stderr[-500:]}")
            pytest.skip(f"duckdb=={version} could not be installed here (no package index?)")
    return python


READ_EVERY_MART = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
tables = [r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()]
print(json.dumps({"version": duckdb.__version__, "rows": {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}}))
"""  # noqa: E501


@pytest.mark.parametrize("version", DUCKDB_READERS)
def test_duckdb_1x_reads_every_mart_of_the_tableau_file(version: str, exported: Path) -> None:
    python = _reader(version)
    result = subprocess.run(
        [str(python), "-c", READ_EVERY_MART, str(exported / "duckdb" / export_module.DUCKDB_FILE)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    read = json.loads(result.stdout)
    assert read["version"] == version
    expected = json.loads((exported / "export.json").read_text())["rows"]
    assert read["rows"] == expected


def test_a_tiny_mart_in_every_format_without_a_build(tmp_path: Path) -> None:
    """The CSV rules on values worked by hand, the dictionary from the warehouse's comments, every format written."""
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create table tiny as select * from (values "
            "(true, 3::bigint, 1234.5::double, 0.5::double, 0.0001234::double, 'Ярославль'), "
            "(false, 12000::bigint, null, 1.0 / 3, 0.5, 'Рыбинск')"
            ") t(is_active, customers, balance, churn_rate, p_value, city)"
        )
        con.execute("comment on table tiny is 'A tiny mart.'")
        con.execute("comment on column tiny.city is 'The city.'")
    out = tmp_path / "out"
    result = export(warehouse, out, marts=("tiny",), log=lambda _: None)
    assert result["rows"] == {"tiny": 2}
    text = (out / "csv" / "tiny.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbf"), "Excel's byte-order mark"
    lines = text.decode("utf-8-sig").splitlines()
    assert lines[0] == "is_active;customers;balance;churn_rate;p_value;p_value_neg_log10;city"
    # money to 2 decimals, 6 significant digits, p-values as plain decimals and -log10(p) to 2 decimals:
    # -log10(0.0001234) = 3.9087, -log10(0.5) = 0.3010
    assert lines[1] == "1;3;1234,50;0,500000;0,000123;3,91;Ярославль"
    assert lines[2] == "0;12000;;0,333333;0,500000;0,30;Рыбинск"
    with open(out / "data_dictionary.csv", encoding="utf-8-sig") as handle:
        assert handle.read().splitlines()[1] == "tiny,A tiny mart.,city,The city.,text"
    with duckdb.connect() as con:
        assert con.execute("select count(*) from read_parquet(?)", [str(out / "parquet" / "tiny.parquet")]).fetchone()
    assert (out / "hyper" / "tiny.hyper").stat().st_size > 0
    with duckdb.connect(str(out / "duckdb" / export_module.DUCKDB_FILE), read_only=True) as con:
        assert con.execute("select sum(customers) from tiny").fetchone() == (12003,)


def _tiny_warehouse(folder: Path) -> Path:
    warehouse = folder / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create table tiny as select range::bigint as customers, range * 1.5::double as balance from range(5)"
        )
        con.execute("create table small as select 'Ростов' as city")
    return warehouse


@pytest.mark.parametrize("formats", [("hyper",), ("duckdb",), ("parquet",), ("csv",), ("duckdb", "csv")])
def test_only_the_formats_asked_for_are_written(tmp_path: Path, formats: tuple[str, ...]) -> None:
    warehouse = _tiny_warehouse(tmp_path)
    out = tmp_path / "out"
    result = export(warehouse, out, marts=("tiny", "small"), log=lambda _: None, formats=",".join(reversed(formats)))
    assert result["rows"] == {"tiny": 5, "small": 1}
    folders = {p.name for p in out.iterdir() if p.is_dir()}
    assert folders == set(formats), "the folders of the formats asked for, and no scratch Parquet left behind"
    listed = json.loads((out / "export.json").read_text())
    assert listed["formats"] == [f for f in export_module.EXPORT_FORMATS if f in formats]
    assert listed["rows"] == {"tiny": 5, "small": 1}
    assert (listed["duckdb_storage_version"] is not None) == ("duckdb" in formats)
    assert f"Formats in this export: {', '.join(listed['formats'])}." in (out / "data_dictionary.md").read_text()
    if "hyper" in formats:
        assert {p.name for p in (out / "hyper").iterdir()} == {"tiny.hyper", "small.hyper"}
    if "duckdb" in formats:
        with duckdb.connect(str(out / "duckdb" / export_module.DUCKDB_FILE), read_only=True) as con:
            assert con.execute("select sum(customers), sum(balance) from tiny").fetchone() == (10, 15.0)
    if "parquet" in formats:
        with duckdb.connect() as con:
            path = str(out / "parquet" / "small.parquet")
            assert con.execute("select city from read_parquet(?)", [path]).fetchall() == [("Ростов",)]
    if "csv" in formats:
        assert (out / "csv" / "tiny.csv").read_text(encoding="utf-8-sig").splitlines()[0] == "customers;balance"


def test_a_narrower_export_replaces_the_folder_whole(tmp_path: Path) -> None:
    warehouse = _tiny_warehouse(tmp_path)
    out = tmp_path / "out"
    export(warehouse, out, marts=("tiny",), log=lambda _: None)
    assert {p.name for p in out.iterdir() if p.is_dir()} == set(export_module.EXPORT_FORMATS)
    export(warehouse, out, marts=("tiny",), log=lambda _: None, formats=["csv"])
    assert {p.name for p in out.iterdir() if p.is_dir()} == {"csv"}, "no files left over from the earlier export"


@pytest.mark.parametrize(("formats", "named"), [("hyper,xlsx", "'xlsx'"), (" , ", "no format"), ([], "no format")])
def test_an_unknown_or_empty_format_is_refused_and_the_exports_stay(tmp_path: Path, formats, named: str) -> None:
    warehouse = _tiny_warehouse(tmp_path)
    out = tmp_path / "out"
    export(warehouse, out, marts=("tiny",), log=lambda _: None, formats="parquet")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(ExportError, match="expected one or more of hyper, duckdb, parquet, csv") as error:
        export(warehouse, out, marts=("tiny",), log=lambda _: None, formats=formats)
    assert named in str(error.value)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "w.duckdb"], "no half-written folder beside them"


def _rows(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple]:
    return sorted(con.execute(f"select * from {relation}").fetchall(), key=repr)


def _duckdb_file_against_parquet(out: Path, mart: str) -> str:
    """The mart's kind in the DuckDB file ('BASE TABLE' or 'VIEW'), once its rows are found equal to its Parquet
    file's (a customer-level mart's rows come in no particular order: compared sorted)."""
    parquet = out / "parquet" / f"{mart}.parquet"
    with duckdb.connect(str(out / "duckdb" / export_module.DUCKDB_FILE), read_only=True) as con:
        assert _rows(con, mart) == _rows(con, f"read_parquet('{parquet}')"), mart
        return con.execute("select table_type from information_schema.tables where table_name = ?", [mart]).fetchone()[
            0
        ]


def test_the_duckdb_files_segment_memberships_are_the_warehouses_view_with_the_parquet_rows(exported: Path) -> None:
    assert json.loads((exported / "export.json").read_text())["duckdb_views"] == ["customer_segments"]
    assert _duckdb_file_against_parquet(exported, "customer_segments") == "VIEW"
    assert _duckdb_file_against_parquet(exported, "customers") == "BASE TABLE", "its warehouse view reads a model"
    dictionary = (exported / "data_dictionary.md").read_text(encoding="utf-8")
    assert "**In the DuckDB file**: a view" in dictionary.split("## customer_segments")[1].split("## ")[0]
    assert "**In the DuckDB file**" not in dictionary.split("## customer_segments")[0]


def test_memberships_exported_without_the_customers_they_read_are_a_table(shipped_warehouse: Path, tmp_path: Path):
    out = tmp_path / "exports"
    export(shipped_warehouse, out, marts=("customer_segments",), log=lambda _: None, formats="duckdb,parquet")
    assert json.loads((out / "export.json").read_text())["duckdb_views"] == []
    assert _duckdb_file_against_parquet(out, "customer_segments") == "BASE TABLE"


def _views_of_views(tmp_path: Path, monkeypatch) -> Path:
    """A warehouse of views: `early` reads `base`, which is not exported; `late` reads `early`; `extra` reads
    `early` and gives a column the export leaves out (an internal one, made so here)."""
    monkeypatch.setattr(export_module, "INTERNAL_COLUMNS", ("sample_order", "internal"))
    warehouse = tmp_path / "w.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table base as select range as k, range % 3 as g from range(7)")
        con.execute("create view early as select k, g from base where k > 1")
        con.execute("create view late as select g, count(*) as n from early group by g")
        con.execute("create view extra as select k, 1 as internal from early")
    return warehouse


def test_a_view_of_views_binds_in_export_order_and_one_unlike_its_parquet_file_is_a_table(
    tmp_path: Path, monkeypatch
) -> None:
    """`late` reads `early`, a view of `base`, which is not exported: `early` is loaded as a table, `late` is
    then a view of it. `extra` binds in the file but gives a column the export leaves out (an internal one), so
    the file holds the Parquet file's rows as a table."""
    warehouse = _views_of_views(tmp_path, monkeypatch)
    out = tmp_path / "out"
    export(warehouse, out, marts=("early", "late", "extra"), log=lambda _: None, formats="duckdb,parquet")
    assert json.loads((out / "export.json").read_text())["duckdb_views"] == ["late"]
    assert [_duckdb_file_against_parquet(out, m) for m in ("early", "late", "extra")] == [
        "BASE TABLE",
        "VIEW",
        "BASE TABLE",
    ]
    with duckdb.connect(str(out / "duckdb" / export_module.DUCKDB_FILE), read_only=True) as con:
        assert _rows(con, "late") == [(0, 2), (1, 1), (2, 2)]


def _kinds_and_rows(out: Path, marts: tuple[str, ...]) -> dict[str, tuple[str, list[tuple]]]:
    """Each mart's kind in the DuckDB file ('BASE TABLE' or 'VIEW') and its rows, sorted."""
    with duckdb.connect(str(out / "duckdb" / export_module.DUCKDB_FILE), read_only=True) as con:
        kind = "select table_type from information_schema.tables where table_name = ?"
        return {mart: (con.execute(kind, [mart]).fetchone()[0], _rows(con, mart)) for mart in marts}


def test_the_duckdb_file_alone_writes_no_parquet_file_of_a_view_that_binds(
    shipped_warehouse: Path, tmp_path: Path, monkeypatch
) -> None:
    """customer_segments, a view of the exported customers, is that view in the DuckDB file with no Parquet file
    written for it; customers, whose warehouse view reads a model that is not exported, is loaded from its own."""
    written: list[str] = []
    write_parquet = export_module._write_parquet

    def counted(con, mart, query, parquet):
        written.append(mart)
        return write_parquet(con, mart, query, parquet)

    monkeypatch.setattr(export_module, "_write_parquet", counted)
    out = tmp_path / "exports"
    marts = ("customers", "customer_segments")
    export(shipped_warehouse, out, marts=marts, log=lambda _: None, formats="duckdb,csv")
    assert written == ["customers"]
    listed = json.loads((out / "export.json").read_text())
    assert listed["duckdb_views"] == ["customer_segments"]
    assert sorted(p.name for p in out.iterdir()) == [
        "csv",
        "data_dictionary.csv",
        "data_dictionary.md",
        "duckdb",
        "export.json",
    ]
    found = _kinds_and_rows(out, marts)
    with duckdb.connect(str(shipped_warehouse), read_only=True) as con:
        for mart in marts:
            exported = export_module._select(con, mart, None)
            assert found[mart][1] == _rows(con, f"({exported})"), mart
            assert listed["rows"][mart] == len(found[mart][1]), mart
    assert found["customer_segments"][0] == "VIEW" and found["customers"][0] == "BASE TABLE"


def test_the_duckdb_file_alone_loads_a_view_that_does_not_bind_or_differs_from_its_own_parquet_file(
    tmp_path: Path, monkeypatch
) -> None:
    """As with Parquet asked for too (above): `early` reads a relation not exported and `extra` gives a column the
    export leaves out, so each is written to Parquet once that is known, and loaded as a table; `late` binds."""
    warehouse = _views_of_views(tmp_path, monkeypatch)
    out = tmp_path / "out"
    export(warehouse, out, marts=("early", "late", "extra"), log=lambda _: None, formats="duckdb")
    assert json.loads((out / "export.json").read_text())["duckdb_views"] == ["late"]
    assert sorted(p.name for p in out.iterdir()) == [
        "data_dictionary.csv",
        "data_dictionary.md",
        "duckdb",
        "export.json",
    ]
    assert _kinds_and_rows(out, ("early", "late", "extra")) == {
        "early": ("BASE TABLE", [(k, k % 3) for k in range(2, 7)]),
        "late": ("VIEW", [(0, 2), (1, 1), (2, 2)]),
        "extra": ("BASE TABLE", [(k,) for k in range(2, 7)]),
    }


def test_parquet_files_of_one_row_group_each_are_loaded_side_by_side(tmp_path: Path) -> None:
    con = duckdb.connect()
    files = {name: tmp_path / f"{name}.parquet" for name in ("empty", "one", "three")}
    con.execute(f"copy (select range as x from range(0)) to '{files['empty']}' (format parquet)")
    con.execute(f"copy (select range as x from range(5000)) to '{files['one']}' (format parquet)")
    three = f"copy (select range as x from range(5000)) to '{files['three']}' (format parquet, row_group_size 2048)"
    con.execute(three)
    assert export_module._one_row_group_each({"empty": files["empty"], "one": files["one"]})
    assert not export_module._one_row_group_each(files)


def _hashes(out: Path) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("failing", "other"), [("_write_hyper", "_write_duckdb"), ("_write_duckdb", "_write_hyper")])
def test_a_loader_failing_beside_the_other_waits_for_it_and_leaves_the_previous_exports(
    shipped_warehouse: Path, tmp_path: Path, monkeypatch, failing: str, other: str
) -> None:
    out = tmp_path / "exports"
    export(shipped_warehouse, out, log=lambda _: None)
    before = _hashes(out)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    events: list[str] = []
    other_started = threading.Event()
    loads = getattr(export_module, other)

    def other_loader(*args, **kwargs):
        other_started.set()
        written = loads(*args, **kwargs)
        time.sleep(0.5)  # still at work when the failure comes
        events.append("the other finished")
        return written

    def failing_loader(*args, **kwargs):
        assert other_started.wait(60)
        events.append("failed")
        raise OSError(f"{failing} failed")

    monkeypatch.setattr(export_module, other, other_loader)
    monkeypatch.setattr(export_module, failing, failing_loader)
    lines: list[str] = []
    with pytest.raises(OSError, match=f"{failing} failed"):
        export(shipped_warehouse, out, log=lines.append)
    assert any("side by side" in line for line in lines), "the shipped sample's files are one row group each"
    assert events == ["failed", "the other finished"], "the failure is raised once the other loader has ended"
    assert _hashes(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "tmp"], "no half-written directory left"
    assert list(scratch.iterdir()) == [], "the DuckDB file's scratch folder is gone"
