"""The Tableau workbook and data sources: Tableau's schema, and every sheet's figures against the marts."""

from __future__ import annotations

import importlib.util
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import twb_eval
from tableauhyperapi import Connection, HyperProcess, TableName

from metanprom.delivery import tableau
from metanprom.delivery.export import export
from metanprom.ingest.formats import FORMATS
from metanprom.settings import PROJECT_DIR

SHARED_TABLEAU = PROJECT_DIR.parent / "shared" / "tableau"
EXTRACTS = tuple(FORMATS)


def _validator():
    script = SHARED_TABLEAU / "validate_twb.py"
    if not script.is_file():
        pytest.skip(f"Tableau's schemas are absent ({script}; a fresh clone has no ../shared/tableau)")
    spec = importlib.util.spec_from_file_location("validate_twb", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _schema_errors(path: Path, version: str) -> list[str]:
    from lxml import etree

    schema = _validator().load_schema(version)
    schema.validate(etree.parse(str(path)))
    return [f"line {e.line}: {e.message}" for e in schema.error_log if "_.fcp." not in e.message]


@pytest.fixture(scope="module")
def folder(shipped_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project-like folder: tableau/ (the committed files) beside output/exports/ (a fresh export)."""
    root = tmp_path_factory.mktemp("tableau")
    export(shipped_warehouse, root / "output" / "exports", log=lambda _: None)
    shutil.copytree(PROJECT_DIR / "tableau", root / "tableau")
    return root


@pytest.fixture(scope="module")
def hyper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HyperProcess]:
    with twb_eval.hyper_process(tmp_path_factory.mktemp("hyper-logs")) as process:
        yield process


@pytest.fixture(scope="module")
def workbook(folder: Path):
    return twb_eval.read(folder / "tableau" / tableau.WORKBOOK)


@pytest.fixture(scope="module")
def marts(shipped_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(shipped_warehouse), read_only=True)
    yield con
    con.close()


# ------------------------------------------------------------------ the files


def test_the_committed_files_are_the_generators_output(shipped_warehouse: Path) -> None:
    files = tableau.render(shipped_warehouse)
    assert sorted(files) == sorted(p.name for p in (PROJECT_DIR / "tableau").iterdir())
    for name, text in files.items():
        assert (PROJECT_DIR / "tableau" / name).read_text(encoding="utf-8") == text, name


@pytest.mark.parametrize("version", ["2025.3", "2026.1"])
def test_the_workbook_is_valid_against_tableaus_schema(version: str) -> None:
    path = PROJECT_DIR / "tableau" / tableau.WORKBOOK
    assert _schema_errors(path, version) == []
    root = ET.parse(path).getroot()
    assert root.get("version") == root.get("original-version") == tableau.WORKBOOK_VERSION == "25.3"


def test_each_data_source_file_is_valid_inside_a_workbook(tmp_path: Path) -> None:
    """The schema's root is a workbook: each .tds is checked as the data source of a minimal one."""
    for tds in sorted((PROJECT_DIR / "tableau").glob("*.tds")):
        datasource = ET.parse(tds).getroot()
        assert datasource.tag == "datasource" and datasource.get("formatted-name"), tds.name
        del datasource.attrib["formatted-name"]
        workbook = ET.Element("workbook", {"version": "25.3", "original-version": "25.3", "source-build": "x"})
        ET.SubElement(workbook, "datasources").append(datasource)
        explain = ET.SubElement(
            workbook, "explain-data", {"enabled-for-viewer": "false", "extreme-values-enabled-for-all": "false"}
        )
        ET.SubElement(explain, "explanation-types")
        path = tmp_path / f"{tds.stem}.twb"
        ET.ElementTree(workbook).write(path, encoding="utf-8", xml_declaration=True)
        assert _schema_errors(path, "2025.3") == [], tds.name


def test_the_schema_check_catches_a_broken_workbook(tmp_path: Path) -> None:
    """The schema test can fail: the layout Desktop needs (zone positions) removed, it reports errors."""
    text = (PROJECT_DIR / "tableau" / tableau.WORKBOOK).read_text(encoding="utf-8")
    broken = tmp_path / "broken.twb"
    broken.write_text(text.replace(' x="0" y="0"', "", 1), encoding="utf-8")
    assert _schema_errors(broken, "2025.3")


def test_every_connection_resolves_with_the_declared_types(folder: Path, hyper: HyperProcess) -> None:
    root = ET.parse(folder / "tableau" / tableau.WORKBOOK).getroot()
    for ds in root.find("datasources"):
        conn = ds.find("connection/named-connections/named-connection/connection")
        if conn is None:
            continue
        path = (folder / "tableau" / conn.get("dbname")).resolve()
        assert path.is_file(), conn.get("dbname")
        with Connection(hyper.endpoint, str(path)) as c:
            table = TableName(conn.get("schema"), conn.get("tablename"))
            actual = {str(col.name).strip('"'): str(col.type) for col in c.catalog.get_table_definition(table).columns}
        for column in ds.findall("column"):
            if column.find("calculation") is not None:
                continue
            name = column.get("name")[1:-1]
            assert tableau.HYPER_DATATYPES[actual[name]] == column.get("datatype"), (ds.get("name"), name)


def test_every_dashboard_filter_acts_on_every_sheet_of_its_dashboard() -> None:
    root = ET.parse(PROJECT_DIR / "tableau" / tableau.WORKBOOK).getroot()
    sheets = {ws.get("name"): ws for ws in root.find("worksheets")}
    for dashboard in root.find("dashboards"):
        zones = list(dashboard.iter("zone"))
        on_board = [z.get("name") for z in zones if z.get("name") in sheets and z.get("type-v2") is None]
        assert on_board
        filter_zones = [z for z in zones if z.get("type-v2") == "filter"]
        assert any("extract" in z.get("param") for z in filter_zones), dashboard.get("name")
        for zone in filter_zones:
            field = zone.get("param")
            groups = set()
            for name in on_board:
                found = [f for f in sheets[name].iter("filter") if f.get("column") == field]
                assert len(found) == 1, (dashboard.get("name"), name, field)
                assert found[0].get("context") == "true", (name, field)
                groups.add(found[0].get("filter-group"))
            assert len(groups) == 1 and None not in groups, (field, groups)


def test_every_sheet_shows_one_extract_the_current_one_by_default(workbook) -> None:
    sheets, _, _ = workbook
    for sheet in sheets.values():
        extract = [f for f in sheet.filters if f["column"] == "extract"]
        assert extract == [{"column": "extract", "context": True, "keep": [f'"{tableau.DEFAULT_EXTRACT}"']}]


def test_no_rate_is_a_sum_of_rates(workbook) -> None:
    _, calcs, _ = workbook
    for source, formulas in calcs.items():
        for name, formula in formulas.items():
            assert "SUM([churn_rate" not in formula and "SUM([share" not in formula, (source, name)
    sheets, _, _ = workbook
    for sheet in sheets.values():
        for _, column, derivation in sheet.measures:
            assert not (derivation == "Sum" and ("rate" in column or "share" in column)), (sheet.name, column)


# --------------------------------------------------- the figures, sheet by sheet


def _marks(workbook, hyper, name, **kwargs) -> list[dict[str, object]]:
    sheets, calcs, parameters = workbook
    sheet = sheets[name]
    return twb_eval.evaluate(sheet, calcs[sheet.datasource], parameters, hyper, **kwargs)


def _approx(value: float | None):
    return pytest.approx(value, rel=1e-9, abs=1e-12) if value is not None else None


@pytest.mark.parametrize("extract", EXTRACTS)
def test_churn_by_product_count_is_the_marts(extract, workbook, hyper, marts) -> None:
    marks = _marks(workbook, hyper, "Churn by product count", filters={"extract": [extract]})
    expected = marts.execute(
        "select product_count, churn_rate, customers from product_portraits where extract = ?", [extract]
    ).fetchall()
    got = sorted(
        (m["[none:product_count:ok]"], m["[usr:Calculation_churn_rate:qk]"], m["[sum:customers:qk]"]) for m in marks
    )
    assert len(got) == len(expected) > 2
    for (p, rate, n), (ep, erate, en) in zip(got, sorted(expected), strict=True):
        assert (p, n) == (ep, en) and rate == _approx(erate)


@pytest.mark.parametrize("extract", EXTRACTS)
def test_churn_portrait_is_the_marts(extract, workbook, hyper, marts) -> None:
    marks = {
        m["[none:Calculation_churn_status:nk]"]: m
        for m in _marks(workbook, hyper, "Churn portrait", filters={"extract": [extract]})
    }
    assert sorted(marks) == ["Churned", "Retained"]
    rows = marts.execute(
        "select feature, churned_value, retained_value from churn_portrait where extract = ? and statistic = 'mean'",
        [extract],
    ).fetchall()
    means = {feature: (churned, retained) for feature, churned, retained in rows}
    columns = [k for k in marks["Churned"] if k.startswith("[usr:Calculation_mean_")]
    assert len(columns) == 6
    for instance in columns:
        feature = instance.split(":")[1].removeprefix("Calculation_mean_")
        assert marks["Churned"][instance] == _approx(means[feature][0]), feature
        assert marks["Retained"][instance] == _approx(means[feature][1]), feature


@pytest.mark.parametrize("extract", EXTRACTS)
def test_segments_are_the_marts(extract, workbook, hyper, marts) -> None:
    marks = _marks(workbook, hyper, "Segments", filters={"extract": [extract]})
    expected = {
        (r[0], r[1]): r[2:]
        for r in marts.execute(
            "select scheme, segment_name, offer_en, customers, churn_rate, lift, excess_churners, priority_rank "
            "from segment_summary where extract = ?",
            [extract],
        ).fetchall()
    }
    assert len(marks) == len(expected) > 5
    for m in marks:
        offer, customers, rate, lift, excess, priority = expected[(m["[none:scheme:nk]"], m["[none:segment_name:nk]"])]
        assert m["[none:offer_en:nk]"] == offer
        assert m["[sum:customers:qk]"] == customers
        assert m["[usr:Calculation_churn_rate:qk]"] == _approx(rate)
        assert m["[usr:Calculation_lift:qk]"] == _approx(lift)
        assert m["[usr:Calculation_excess_churners:qk]"] == pytest.approx(excess, rel=1e-9, abs=1e-6)
        assert m["[usr:Calculation_priority:qk]"] == priority


@pytest.mark.parametrize("extract", EXTRACTS)
def test_churn_by_feature_is_the_marts_for_every_feature(extract, workbook, hyper, marts) -> None:
    features = [value for value, _ in tableau.FEATURES]
    in_mart = {r[0] for r in marts.execute("select distinct feature from churn_by_feature").fetchall()}
    assert set(features) == in_mart, "the parameter offers every feature of the mart"
    for feature in features:
        marks = _marks(
            workbook,
            hyper,
            "Churn by feature",
            filters={"extract": [extract]},
            parameter_values={tableau.FEATURE_PARAMETER: feature},
        )
        expected = marts.execute(
            "select feature_value, value_order, churn_rate, customers, bank_churn_rate from churn_by_feature "
            "where extract = ? and feature = ? order by value_order",
            [extract, feature],
        ).fetchall()
        by_value = {m["[none:Calculation_feature_value:nk]"]: m for m in marks}
        assert sorted(by_value) == sorted(e[0] for e in expected), feature
        shown = sorted(
            marks, key=lambda m: (m["[none:Calculation_feature_order:ok]"], m["[none:Calculation_feature_value:nk]"])
        )
        assert [m["[none:Calculation_feature_value:nk]"] for m in shown] == [e[0] for e in expected], (
            "sorted as the mart"
        )
        for value, _order, rate, customers, bank in expected:
            m = by_value[value]
            assert m["[usr:Calculation_churn_rate:qk]"] == _approx(rate), (feature, value)
            assert m["[sum:customers:qk]"] == customers, (feature, value)
            assert m["[min:Calculation_bank_churn_rate:qk]"] == _approx(bank), "the reference line"


@pytest.mark.parametrize("extract", EXTRACTS)
def test_clusters_are_the_marts(extract, workbook, hyper, marts) -> None:
    marks = _marks(workbook, hyper, "Clusters", filters={"extract": [extract]})
    expected = marts.execute(
        "select cluster_id, churn_rate, customers from cluster_profiles where extract = ? order by 1", [extract]
    ).fetchall()
    got = sorted(
        (m["[none:cluster_id:ok]"], m["[usr:Calculation_churn_rate:qk]"], m["[sum:customers:qk]"]) for m in marks
    )
    assert len(got) == len(expected) >= 2
    for (c, rate, n), (ec, erate, en) in zip(got, expected, strict=True):
        assert (c, n) == (ec, en) and rate == _approx(erate)


@pytest.mark.parametrize("extract", EXTRACTS)
def test_hypotheses_are_the_marts(extract, workbook, hyper, marts) -> None:
    marks = _marks(workbook, hyper, "Hypotheses", filters={"extract": [extract]})
    expected = {
        r[0]: r[1:]
        for r in marts.execute(
            "select question_en, reject_null, test, p_value_adjusted, effect_size from hypothesis_results "
            "where extract = ?",
            [extract],
        ).fetchall()
    }
    assert len(marks) == len(expected) > 5
    for m in marks:
        reject, test, p, effect = expected[m["[none:question_en:nk]"]]
        assert m["[none:Calculation_decision:nk]"] == ("Difference found" if reject else "No evidence of a difference")
        assert m["[none:test:nk]"] == test
        assert m["[min:p_value_adjusted:qk]"] == _approx(p)
        assert m["[min:effect_size:qk]"] == _approx(effect)


# ------------------------------------- the dashboard's filters, checked from customers


def test_city_and_gender_filters_change_every_customer_sheet_truthfully(workbook, hyper, marts) -> None:
    chosen = {"extract": ["bank_scrooge"], "city": ["Rybinsk"], "gender": ["F"]}
    where = "extract = 'bank_scrooge' and city = 'Rybinsk' and gender = 'F'"
    bank = marts.execute(f"select avg(is_churned::int) from customers where {where}").fetchone()[0]

    by_product = marts.execute(
        f"select product_count, avg(is_churned::int), count(*) from customers where {where} group by 1 order by 1"
    ).fetchall()
    marks = _marks(workbook, hyper, "Churn by product count", filters=chosen)
    got = sorted(
        (m["[none:product_count:ok]"], m["[usr:Calculation_churn_rate:qk]"], m["[sum:customers:qk]"]) for m in marks
    )
    assert [(p, n) for p, _, n in got] == [(p, n) for p, _, n in by_product]
    assert [r for _, r, _ in got] == [_approx(r) for _, r, _ in by_product]

    clusters = marts.execute(
        "select cluster_id, avg(is_churned::int) from customers "
        "inner join customer_clusters using (extract, customer_key) "
        f"where {where.replace('extract', 'customers.extract')} group by 1 order by 1"
    ).fetchall()
    marks = _marks(workbook, hyper, "Clusters", filters=chosen)
    assert sorted((m["[none:cluster_id:ok]"], m["[usr:Calculation_churn_rate:qk]"]) for m in marks) == [
        (c, _approx(r)) for c, r in clusters
    ]

    # means over the filtered customers (a mean of balance over the customers who have one, as AVG)
    features = [column for column, _, _ in tableau.PORTRAIT]
    means = {
        row[0]: row[1:]
        for row in marts.execute(
            f"select case when is_churned then 'Churned' else 'Retained' end, "
            f"{', '.join(f'avg({c})' for c in features)} from customers where {where} group by 1"
        ).fetchall()
    }
    marks = _marks(workbook, hyper, "Churn portrait", filters=chosen)
    assert sorted(m["[none:Calculation_churn_status:nk]"] for m in marks) == ["Churned", "Retained"]
    for m in marks:
        expected = means[m["[none:Calculation_churn_status:nk]"]]
        for column, value in zip(features, expected, strict=True):
            assert m[f"[usr:Calculation_mean_{column}:qk]"] == _approx(value), column

    marks = _marks(
        workbook, hyper, "Churn by feature", filters=chosen, parameter_values={tableau.FEATURE_PARAMETER: "age_band"}
    )
    assert marks and all(m["[min:Calculation_bank_churn_rate:qk]"] == _approx(bank) for m in marks), "the line follows"

    # overlapping segments: membership is the rule the mart compiled, applied to the filtered customers
    rules = marts.execute(
        "select segment_name, rule_sql from segment_summary where extract = 'bank_scrooge' and scheme = 'churn_prone' "
        "and segment_id <> 'unassigned'"
    ).fetchall()
    marks = {
        m["[none:segment_name:nk]"]: m
        for m in _marks(workbook, hyper, "Segments", filters=chosen)
        if m["[none:scheme:nk]"] == "churn_prone"
    }
    assert len(rules) >= 2 and len(marks) >= 2
    for name, rule in rules:
        n, rate = marts.execute(
            f"select count(*), avg(is_churned::int) from customers where {where} and ({rule})"
        ).fetchone()
        if n == 0:  # e.g. a segment of men, with women chosen: Tableau draws no mark
            assert name not in marks
            continue
        assert marks[name]["[sum:customers:qk]"] == n, name
        assert marks[name]["[usr:Calculation_churn_rate:qk]"] == _approx(rate), name
        assert marks[name]["[usr:Calculation_lift:qk]"] == _approx(rate / bank), "lift against the filtered bank"
    total = marts.execute(f"select count(*) from customers where {where}").fetchone()[0]
    consumption = [
        m for m in _marks(workbook, hyper, "Segments", filters=chosen) if m["[none:scheme:nk]"] == "consumption"
    ]
    assert sum(m["[sum:customers:qk]"] for m in consumption) == total, (
        "an exclusive scheme partitions the filtered base"
    )


def test_the_evaluator_reads_formulas_not_a_copy_of_them(workbook, hyper, marts) -> None:
    """A wrong formula in the workbook gives a wrong figure: SUM of a rate is caught."""
    sheets, calcs, parameters = workbook
    broken = dict(calcs[sheets["Churn by product count"].datasource])
    broken["Calculation_churn_rate"] = "AVG([churned]) * 2"
    marks = twb_eval.evaluate(sheets["Churn by product count"], broken, parameters, hyper)
    expected = dict(
        marts.execute(
            "select product_count, churn_rate from product_portraits where extract = 'bank_scrooge'"
        ).fetchall()
    )
    assert any(m["[usr:Calculation_churn_rate:qk]"] != _approx(expected[m["[none:product_count:ok]"]]) for m in marks)
