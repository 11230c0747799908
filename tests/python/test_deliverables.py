"""Exports (hyper, Parquet, CSV), the Tableau workbook and the manager report."""

from __future__ import annotations

import hashlib
import html.parser
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from tableauhyperapi import Connection, HyperProcess, TableName, Telemetry

from metanprom.delivery import export as export_module
from metanprom.delivery.export import PUBLIC_MARTS, ExportError, export
from metanprom.delivery.report import write_report


@pytest.fixture(scope="module")
def exported(shipped_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("deliverables")
    export(shipped_warehouse, root / "output" / "exports", log=lambda _: None)
    return root


def test_every_public_mart_is_exported_every_way(exported: Path) -> None:
    out = exported / "output" / "exports"
    for mart in PUBLIC_MARTS:
        for sub, ext in (("hyper", "hyper"), ("parquet", "parquet"), ("csv", "csv")):
            assert (out / sub / f"{mart}.{ext}").stat().st_size > 0, (mart, sub)
    assert (out / "duckdb" / export_module.DUCKDB_FILE).stat().st_size > 0
    assert (out / "data_dictionary.csv").exists() and (out / "data_dictionary.md").exists()
    assert "customer_key" in (out / "data_dictionary.md").read_text(encoding="utf-8")


def test_hyper_files_read_back_with_the_marts_counts_sums_and_types(
    exported: Path, shipped_warehouse: Path, tmp_path: Path
) -> None:
    out = exported / "output" / "exports" / "hyper"
    con = duckdb.connect(str(shipped_warehouse), read_only=True)
    with HyperProcess(Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU, parameters={"log_dir": str(tmp_path)}) as hyper:
        for mart in PUBLIC_MARTS:
            described = con.execute(f"describe main.{mart}").fetchall()
            numeric = [
                r[0]
                for r in described
                if r[1] in ("BIGINT", "INTEGER", "DOUBLE") and r[0] not in export_module.INTERNAL_COLUMNS
            ]
            expected = con.execute(
                f"select count(*) {''.join(f', sum({c})' for c in numeric)} from main.{mart}"
            ).fetchall()[0]
            with Connection(hyper.endpoint, str(out / f"{mart}.hyper")) as conn:
                table = TableName("Extract", mart)
                sums = "".join(f', sum("{c}")' for c in numeric)
                got = conn.execute_list_query(f"select count(*) {sums} from {table}")[0]
                assert got[0] == expected[0], mart
                for g, e in zip(got[1:], expected[1:], strict=True):
                    assert g == pytest.approx(e, rel=1e-9, abs=1e-6), mart
                if mart == "customers":
                    types = {
                        str(c.name).strip('"'): str(c.type) for c in conn.catalog.get_table_definition(table).columns
                    }
                    assert types["is_churned"] == "BOOL"
                    assert types["product_count"] in ("INT", "BIG_INT")
                    assert types["balance"] == "DOUBLE"
                    assert types["age_band"] == "TEXT" and types["age_band_order"] in ("INT", "BIG_INT")
    con.close()


def test_csv_opens_in_excel_with_cyrillic_intact(exported: Path) -> None:
    raw = (exported / "output" / "exports" / "csv" / "segment_summary.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    header = text.splitlines()[0].split(";")
    assert "churn_rate" in header
    assert "Клиенты с тремя и более продуктами" in text
    assert re.search(r";0,\d+;", text), "decimal commas for a Russian-locale Excel"


def test_pseudonymised_exports_hide_ids_consistently(shipped_warehouse: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(export_module.PSEUDONYM_KEY_ENV, raising=False)
    with pytest.raises(ExportError, match=export_module.PSEUDONYM_KEY_ENV):
        export(shipped_warehouse, tmp_path / "x", pseudonymise=True, log=lambda _: None)
    monkeypatch.setenv(export_module.PSEUDONYM_KEY_ENV, "secret")
    export(
        shipped_warehouse,
        tmp_path / "a",
        pseudonymise=True,
        marts=("customers", "customer_segments"),
        log=lambda _: None,
    )
    export(shipped_warehouse, tmp_path / "b", pseudonymise=True, marts=("customers",), log=lambda _: None)
    # a customer-level mart's Parquet rows come in no particular order: compared sorted
    a = sorted(
        duckdb.sql(f"select customer_id, customer_key from '{tmp_path / 'a/parquet/customers.parquet'}'").fetchall()
    )
    b = sorted(
        duckdb.sql(f"select customer_id, customer_key from '{tmp_path / 'b/parquet/customers.parquet'}'").fetchall()
    )
    real = (
        duckdb.connect(str(shipped_warehouse), read_only=True).execute("select customer_id from customers").fetchall()
    )
    assert a == b, "the same key gives the same pseudonyms"
    exported = duckdb.sql(f"describe '{tmp_path / 'a/parquet/customers.parquet'}'").fetchall()
    assert not {r[0] for r in exported} & {"source_row_number", "sample_order"}, "nothing that leads back to the file"
    assert not {r[0] for r in a} & {r[0] for r in real}
    seg = duckdb.sql(
        f"select distinct customer_key from '{tmp_path / 'a/parquet/customer_segments.parquet'}'"
    ).fetchall()
    assert {r[0] for r in seg} <= {r[1] for r in a}, "joins across marts still work"
    # the DuckDB file's memberships are a view of its pseudonymised customers: the Parquet file's pseudonyms
    with duckdb.connect(str(tmp_path / "a/duckdb" / export_module.DUCKDB_FILE), read_only=True) as con:
        assert json.loads((tmp_path / "a/export.json").read_text())["duckdb_views"] == ["customer_segments"]
        query = "select customer_key, scheme, segment_id from {} order by all"
        parquet = f"read_parquet('{tmp_path / 'a/parquet/customer_segments.parquet'}')"
        assert (
            con.execute(query.format("customer_segments")).fetchall() == con.execute(query.format(parquet)).fetchall()
        )


def test_an_interrupted_export_leaves_the_previous_files_as_they_were(shipped_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "exports"
    export(shipped_warehouse, out, log=lambda _: None)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*") if p.is_file()}

    steps: list[None] = []

    def interrupt() -> None:
        # the export's checkpoint comes after each mart: stop it once churn_portrait is written
        steps.append(None)
        if len(steps) == PUBLIC_MARTS.index("churn_portrait") + 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export(shipped_warehouse, out, log=lambda _: None, checkpoint=interrupt)
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["exports"], "no half-written directory left behind"


class _Numbers(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if "data-mart" in values:
            self.found.append(values)


KEYS = {
    "extract_summary": ["extract"],
    "product_portraits": ["extract", "product_count"],
    "churn_portrait": ["extract", "feature", "statistic", "feature_value"],
    "segment_summary": ["extract", "scheme", "segment_id"],
    "data_quality_summary": ["extract", "gate", "check_name", "column_name"],
}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_number_in_the_report_is_the_marts(lang: str, shipped_warehouse: Path, tmp_path: Path) -> None:
    path = write_report(shipped_warehouse, lang, tmp_path)
    text = path.read_text(encoding="utf-8")
    parser = _Numbers()
    parser.feed(text)
    assert len(parser.found) > 50
    con = duckdb.connect(str(shipped_warehouse), read_only=True)
    for item in parser.found:
        mart = item["data-mart"]
        *key, column = item["data-key"].split("|")
        where = " and ".join(f"cast({c} as varchar) is not distinct from ?" for c in KEYS[mart])
        params = [None if k == "None" else k for k in key]
        rows = con.execute(f"select {column} from {mart} where {where}", params).fetchall()
        assert len(rows) == 1, item
        value = rows[0][0]
        if isinstance(value, float):
            assert float(item["data-value"]) == pytest.approx(value, rel=1e-12), item
        else:
            assert item["data-value"] == str(value), item
    con.close()
    assert ("Основные показатели" in text) == (lang == "ru")
    assert text.count("<img") >= 2


def test_the_report_renders_in_headless_chromium(shipped_warehouse: Path, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed here (apt-get install chromium); CI installs it")
    for lang in ("en", "ru"):
        report = write_report(shipped_warehouse, lang, tmp_path)
        shot = tmp_path / f"report_{lang}.png"
        result = subprocess.run(
            [
                chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
                "--window-size=1200,2000", f"--screenshot={shot}", report.as_uri(),
            ],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        console_errors = [line for line in result.stderr.splitlines() if "CONSOLE" in line and "rror" in line]
        assert result.returncode == 0, result.stderr[-2000:]
        assert console_errors == []
        assert shot.stat().st_size > 20_000
