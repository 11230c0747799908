"""Great Expectations gates: the suites, `metanprom check`, and the severity policy."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest
from conftest import real_extract

from metanprom import project
from metanprom.cli import main
from metanprom.ingest import check_results, quality, suites
from metanprom.ingest.gate_sql import DuckDbGate
from metanprom.settings import PROJECT_DIR


def test_the_shipped_extracts_pass_with_warnings_only() -> None:
    files = {name: PROJECT_DIR / "seeds" / f"{name}.csv" for name in ("bank_scrooge", "bank_dataset")}
    results, rows = quality.check_raw(files)
    assert rows == {"bank_scrooge": 10_000, "bank_dataset": 10_000}
    assert check_results.failed(results, "error") == []
    warned = {(r.dataset, r.column) for r in check_results.failed(results, "warning")}
    assert ("bank_dataset", "estimated_salary") in warned, "salaries below the minimum wage warn"


def test_the_gate_writes_data_docs_only_where_asked(tmp_path: Path, monkeypatch) -> None:
    """A run asks for no Data Docs: nothing is rendered, and no folder is left in the temporary directory (a Great
    Expectations ephemeral context comes with a site in a fresh temporary folder)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    files = {name: PROJECT_DIR / "seeds" / f"{name}.csv" for name in ("bank_scrooge", "bank_dataset")}
    results, _ = quality.check_raw(files, context=quality.gx_context(None))
    assert results and list(scratch.iterdir()) == []
    docs = tmp_path / "docs"
    quality.check_raw(files, context=quality.gx_context(docs))
    assert (docs / "index.html").exists() and list(scratch.iterdir()) == []


def test_the_mart_suites_pass_on_a_built_warehouse(shipped_warehouse: Path) -> None:
    results = quality.check_marts(shipped_warehouse, {"bank_scrooge": 10_000, "bank_dataset": 10_000})
    assert check_results.failed(results, "error") == []
    assert any(r.check == "customers + quarantined = rows in the file" and r.success for r in results)


def test_a_wrong_row_count_fails_the_mart_reconciliation(shipped_warehouse: Path) -> None:
    results = quality.check_marts(shipped_warehouse, {"bank_scrooge": 10_001, "bank_dataset": 10_000})
    failures = check_results.failed(results, "error")
    assert len(failures) == 1 and "10001 in the file" in failures[0].observed


def test_check_on_both_real_extracts_passes_and_writes_data_docs(tmp_path: Path, capsys, real_warehouse: Path) -> None:
    scrooge, dataset = real_extract("bank_scrooge"), real_extract("bank_dataset")
    docs = tmp_path / "docs"
    code = main(["check", "--bank-scrooge", str(scrooge), "--bank-dataset", str(dataset),
                 "--warehouse", str(real_warehouse), "--docs", str(docs)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 failed (error)" in out
    checked = int(out.split(" checks: ")[0].split()[-1])
    raw_only = len(suites.raw_spec("bank_scrooge")[0]) + len(suites.raw_spec("bank_scrooge")[1])
    assert checked > 2 * raw_only - 5, "the marts were checked too"
    assert (docs / "index.html").exists()
    assert list((docs / "validations").rglob("*.html"))


def test_check_on_a_corrupted_real_extract_fails_with_a_readable_reason(tmp_path: Path, capsys) -> None:
    lines = real_extract("bank_scrooge").read_text(encoding="utf-8").splitlines()
    corrupted = tmp_path / "corrupted.csv"
    body = []
    for i, line in enumerate(lines[1:]):
        fields = line.split(",")
        if i % 10 == 0:
            fields[9] = "yes"  # last_activity: not 0/1 in 10 % of rows
        if i == 7:
            fields[6] = "-5000.0"  # a negative balance
        body.append(",".join(fields))
    corrupted.write_text("\n".join([lines[0], *body]) + "\n", encoding="utf-8")
    code = main(["check", "--bank-scrooge", str(corrupted), "--raw-only", "--docs", str(tmp_path / "docs")])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED" in out
    assert "[last_activity]" in out and "yes" in out
    assert "[balance]" in out and "-5000" in out


@pytest.mark.parametrize("severity", ["error", "warning"])
def test_the_severity_policy_is_documented(severity: str) -> None:
    assert suites.SEVERITY_POLICY[severity]
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    assert f"**{severity}**" in readme


def test_great_expectations_validates_a_keyed_sample_of_a_large_file(monkeypatch) -> None:
    """Above GE_MAX_ROWS rows, the rows first by the md5 of customer id, city and seed (worked here with hashlib),
    not the engine's random sampling: the same rows on every run and every engine."""
    import hashlib

    from metanprom import project
    from metanprom.ingest.formats import FORMATS

    monkeypatch.setattr(quality, "GE_MAX_ROWS", 40)
    path = PROJECT_DIR / "seeds" / "bank_scrooge.csv"
    fmt = FORMATS["bank_scrooge"]
    seed = project.random_seed()
    gate = DuckDbGate()
    try:
        relation, present = gate.read_raw(path, "bank_scrooge")
        rows = gate.rows(f"select count(*) from {relation}")[0][0]
        # without the row count (the exact last order first); with it (one pass below a cut-off); with a count
        # so large that the cut-off holds too few rows (back to the exact route): the same rows every time
        samples = [quality._raw_sample(gate, relation, "bank_scrooge", present, count) for count in (None, rows, 10**9)]
        every = gate.query(f"select * from {relation}")
    finally:
        gate.close()
    ids, cities = fmt.raw("customer_id"), fmt.raw("city")
    digest = every[ids].fillna("") + "|" + every[cities].fillna("") + f"|{seed}"
    every["_md5"] = [hashlib.md5(text.encode()).hexdigest() for text in digest]
    expected = every.sort_values(["_md5", *present]).head(40)
    for sample in samples:
        assert len(sample) == 40
        assert sample[present].values.tolist() == expected[present].values.tolist()


def _negative_balances(folder: Path, balances: dict[int, str] | None = None) -> Path:
    """The shipped current-format sample (the generator's rows) with a negative balance in rows 3, 500 and 9,000
    (or the raw `balances` given, by row)."""
    import csv

    from metanprom.ingest.formats import FORMATS

    with open(PROJECT_DIR / "seeds" / "bank_scrooge.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index(FORMATS["bank_scrooge"].raw("balance"))
    for line, value in (balances or {line: f"-{line}.5" for line in (3, 500, 9_000)}).items():
        rows[line][column] = value
    path = folder / "negative.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


@pytest.mark.parametrize("estimate", ["the file's", "far too high", "none"])
def test_one_scan_gives_the_checks_count_and_sample_of_two(tmp_path: Path, monkeypatch, estimate: str) -> None:
    """`_scan_raw` reads a large file once (DuckDB: the checks, the count and the rows below a cut-off in one
    aggregate); where its estimate of the row count is far too high or missing it reads twice. Every route gives
    what the range checks' scan and the keyed sample give on their own, a failed check's examples included."""
    monkeypatch.setattr(quality, "GE_MAX_ROWS", 40)
    path = _negative_balances(tmp_path)
    spec = suites.raw_spec("bank_scrooge")[1]
    gate = DuckDbGate()
    kept: list[int] = []
    aggregate = gate.aggregate_keeping_first

    def spy(*args, **kwargs):
        out = aggregate(*args, **kwargs)
        kept.append(out[1])
        return out

    monkeypatch.setattr(gate, "aggregate_keeping_first", spy)
    if estimate == "far too high":
        monkeypatch.setattr(gate, "estimated_rows", lambda first_rows: 10**9)
    elif estimate == "none":
        monkeypatch.setattr(gate, "estimated_rows", lambda first_rows: None)
    try:
        relation, present = gate.read_raw(path, "bank_scrooge")
        if estimate == "the file's":
            assert abs(gate.estimated_rows(41) - 10_000) < 1_000, "within a tenth of the 10,000 rows"
        numbers, rows, sample = quality._scan_raw(gate, relation, "bank_scrooge", present, spec)
        two_numbers, two_rows = quality.number_checks(gate, relation, "bank_scrooge", spec)
        two_sample = quality._raw_sample(gate, relation, "bank_scrooge", present)
    finally:
        gate.close()
    assert rows == two_rows == 10_000
    assert numbers == two_numbers
    balance = [r for r in numbers if r.column == "balance" and not r.success]
    assert [r.unexpected_count for r in balance] == [3] and balance[0].observed == "e.g. [-3.5, -500.5, -9000.5]"
    assert sample.values.tolist() == two_sample.values.tolist() and len(sample) == 40
    if estimate == "the file's":
        assert len(kept) == 1 and kept[0] >= 40, "one aggregate kept enough rows below its cut-off"
    elif estimate == "far too high":
        assert len(kept) == 1 and kept[0] < 40, "too few below the cut-off: read again"
    else:
        assert kept == [], "no estimate, no one-scan route"


def test_a_value_that_is_not_a_finite_number_is_no_negative_balance(tmp_path: Path) -> None:
    """DuckDB's cast reads "-inf", "-Infinity" and "-1e400" as minus infinity: not a number (dbt quarantines the row
    as unparsable), so the range check skips it as any unparsable value; the one real negative balance stops it."""
    not_finite = {10: "-inf", 20: "-Infinity", 30: "nan", 40: "-1e400", 50: " -INF "}
    path = _negative_balances(tmp_path, {3: "-3.5", **not_finite})
    spec = suites.raw_spec("bank_scrooge")[1]
    gate = DuckDbGate()
    try:
        relation, _ = gate.read_raw(path, "bank_scrooge")
        numbers, rows = quality.number_checks(gate, relation, "bank_scrooge", spec)
    finally:
        gate.close()
    assert rows == 10_000
    (balance,) = [r for r in numbers if r.column == "balance"]
    assert (balance.success, balance.unexpected_count, balance.observed) == (False, 1, "e.g. [-3.5]")


def test_a_value_outside_the_number_grammar_is_no_negative_balance(tmp_path: Path) -> None:
    """DuckDB's cast reads "-1_000", "-1e3" and "-.5" as negative numbers, which the project's number grammar (var
    `number_pattern`) does not allow: dbt quarantines their rows as unparsable, so the range check skips them, and
    Great Expectations' pattern reports them. The real negative balance (spaces around it forgiven) stops it."""
    outside = {10: "-1_000", 20: "-1e3", 30: "-.5", 40: "-5.", 50: "+-5"}
    path = _negative_balances(tmp_path, {3: " -3.5 ", **outside})
    text_spec, number_spec = suites.raw_spec("bank_scrooge")
    gate = DuckDbGate()
    try:
        relation, _ = gate.read_raw(path, "bank_scrooge")
        numbers, _ = quality.number_checks(gate, relation, "bank_scrooge", number_spec)
        raw = gate.query(f"select balance from {relation}")["balance"]
    finally:
        gate.close()
    (balance,) = [r for r in numbers if r.column == "balance"]
    assert (balance.success, balance.unexpected_count, balance.observed) == (False, 1, "e.g. [-3.5]")
    (pattern,) = [kwargs["regex"] for name, kwargs, severity in text_spec if kwargs.get("column") == "balance"
                  and name == "ExpectColumnValuesToMatchRegex" and severity == "warning"]  # fmt: skip
    assert sorted(v for v in raw.dropna() if not re.match(pattern, v)) == sorted(outside.values())


def test_great_expectations_validates_a_keyed_sample_of_a_large_mart(shipped_warehouse: Path, monkeypatch) -> None:
    """customers: the first customers by sample order (a key in both extracts has one order: then by extract); a
    mart keyed by customer: the rows of those customers; another: the same rows on every call."""
    monkeypatch.setattr(quality, "GE_MAX_ROWS", 30)
    gate = DuckDbGate(shipped_warehouse)
    try:
        chosen = gate.rows(
            "select extract, customer_key from customers order by sample_order, extract, customer_key limit 30"
        )
        marts = gate.marts()
        # a count larger than the mart's: the cut-off holds too few customers and the exact route takes over
        customers = quality._mart_sample(gate, marts["customers"], 10**6)
        total = gate.rows(f"select count(*) from {marts['customers']}")[0][0]
        assert customers.equals(quality._mart_sample(gate, marts["customers"], total))
        clusters = quality._mart_sample(gate, marts["customer_clusters"], 10**6)
        dashboard = quality._mart_sample(gate, marts["dashboard_customers"], 10**6)
        assert dashboard.equals(quality._mart_sample(gate, marts["dashboard_customers"], 10**6))
    finally:
        gate.close()
    assert list(zip(customers["extract"], customers["customer_key"], strict=True)) == chosen
    assert set(zip(clusters["extract"], clusters["customer_key"], strict=True)) == set(chosen)
    assert len(dashboard) == 30


def test_an_aggregate_marts_sample_is_its_first_rows_by_the_md5_of_their_key(shipped_warehouse: Path, monkeypatch):
    """A mart without customers (dashboard_customers): the rows first by the md5 of the text of their key, the
    columns its unique_combination_of_columns test names, joined by '|' (worked here with hashlib), through the
    cut-off and the exact route alike. Its long text (offers, names) is not hashed."""
    import hashlib

    # as _dashboard__models.yml declares it
    key = [
        "extract", "scheme", "segment_id", "city", "gender", "product_count", "age_band", "credit_score_band",
        "balance_band", "estimated_salary_band", "property_score", "has_balance", "has_credit_card", "is_active",
        "cluster_id", "is_churned",
    ]  # fmt: skip
    assert list(project.unique_keys()["dashboard_customers"]) == key
    monkeypatch.setattr(quality, "GE_MAX_ROWS", 30)
    gate = DuckDbGate(shipped_warehouse)
    try:
        relation = gate.marts()["dashboard_customers"]
        total = gate.rows(f"select count(*) from {relation}")[0][0]
        # the mart's row count (one pass below a cut-off), and a count so large that the cut-off holds too few
        samples = [quality._mart_sample(gate, relation, count) for count in (total, 10**9)]
        texts = ", ".join(f"cast({gate.quote(c)} as varchar) as text_{i}" for i, c in enumerate(key))
        every = gate.query(f"select *, {texts} from {relation}")
    finally:
        gate.close()
    assert quality.md5_cut_off(30, total) is not None, "the cut-off route is taken"
    text = every[[f"text_{i}" for i in range(len(key))]].fillna("").agg("|".join, axis=1)
    every["md5"] = [hashlib.md5(t.encode()).hexdigest() for t in text]
    expected = every.sort_values("md5").head(30)[key].values.tolist()
    for sample in samples:
        assert len(sample) == 30
        assert sample[key].values.tolist() == expected


def test_a_mart_without_a_declared_key_is_sampled_by_the_md5_of_its_exact_columns(shipped_warehouse, monkeypatch):
    """Without a key (none declared, or one with a floating-point column), the md5 of the text of every column
    other than floating point, as hashlib works it."""
    import hashlib

    monkeypatch.setattr(quality, "GE_MAX_ROWS", 30)
    gate = DuckDbGate(shipped_warehouse)
    try:
        relation = gate.marts()["dashboard_customers"]
        hashed = gate.exact_columns(relation)
        total = gate.rows(f"select count(*) from {relation}")[0][0]
        samples = []
        for keys in ({}, {"dashboard_customers": ("extract", "balance_total")}):  # none; one with a double
            monkeypatch.setattr(project, "unique_keys", lambda keys=keys: keys)
            samples.append(quality._mart_sample(gate, relation, total))
        texts = ", ".join(f"cast({gate.quote(c)} as varchar) as text_{i}" for i, c in enumerate(hashed))
        every = gate.query(f"select *, {texts} from {relation}")
    finally:
        gate.close()
    assert "offer_en" in hashed
    text = every[[f"text_{i}" for i in range(len(hashed))]].fillna("").agg("|".join, axis=1)
    every["md5"] = [hashlib.md5(t.encode()).hexdigest() for t in text]
    expected = every.sort_values("md5").head(30)[hashed].values.tolist()
    for sample in samples:
        assert sample[hashed].values.tolist() == expected


def test_the_gates_connections_keep_to_the_memory_budget(monkeypatch, shipped_warehouse: Path) -> None:
    """$METANPROM_DUCKDB_MEMORY_LIMIT caps the gates' DuckDB connections as it caps the build's and the exports'."""
    from metanprom import settings

    limits = []

    limit = settings.limit_duckdb_memory

    def limit_and_record(con) -> None:
        limit(con)
        limits.append(con.execute("select current_setting('memory_limit')").fetchone()[0])

    monkeypatch.setenv(settings.MEMORY_LIMIT_ENV, "321MB")
    monkeypatch.setattr(settings, "limit_duckdb_memory", limit_and_record)
    context = quality.gx_context(None)
    quality.check_raw({"bank_scrooge": PROJECT_DIR / "seeds" / "bank_scrooge.csv"}, context=context)
    quality.check_marts(shipped_warehouse, context=context)
    assert len(limits) == 2, "the raw gate's connection and the mart gate's"
    assert all(limit == "306.1 MiB" for limit in limits), limits


#: In a fresh process: load GX as the gate does, then give PySpark's warning once more outside that load.
LOAD_GX_THEN_WARN = """\
import sys, warnings
from metanprom.ingest import quality
quality._gx()
print("pyspark" in sys.modules)
warnings.warn(quality.PYSPARK_PANDAS_WARNING + " (given after the load)", FutureWarning)
"""


def test_loading_gx_prints_no_pyspark_pandas_warning(tmp_path: Path) -> None:
    """GX imports PySpark, whose pandas >= 3 FutureWarning does not apply to a run on DuckDB: it is not printed while
    GX loads, and the same warning given afterwards still is (the filter does not outlive the load)."""
    pytest.importorskip("pyspark", reason="PySpark is not installed: GX does not import it, nothing warns")
    # a script file, not `python -c`: PySpark takes a main module without a file for its doctests and exits
    script = tmp_path / "load_gx.py"
    script.write_text(LOAD_GX_THEN_WARN, encoding="utf-8")
    shown = subprocess.run([sys.executable, "-W", "default", str(script)], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "True", "GX loaded PySpark, as it does when PySpark is installed"
    lines = [line for line in shown.stderr.splitlines() if quality.PYSPARK_PANDAS_WARNING in line]
    assert len(lines) == 1 and "(given after the load)" in lines[0], shown.stderr


def test_the_text_patterns_match_in_pandas_as_in_pythons_re() -> None:
    """Great Expectations matches a raw column's pattern with pandas' `str.contains` on a string column (pyarrow's
    RE2 where the pattern allows, as these do); each pattern finds exactly what Python's `re` finds in values at its
    edges: every space forgiven around a value, a tab or a line break not, letters in any case, numbers outside the
    grammar."""
    import pandas as pd

    edge_values = [
        *(f"{space}1{space}" for space in project.space_separators()),
        *(f"{space}Ростов Великий" for space in project.space_separators()),
        "\t1", "1\n", "1\r", "\u00851", "\u20281", "01", "11", "",
        "Ярославль", "ЯРОСЛАВЛЬ", "ярославль\n", "Ростов-Великий", "ростов  великий", "Рыбинск\u200b",
        "Ж", "ж", "М", "м", "M", "F", "ЖМ",
        "-5.5", "5.", ".5", "-", "1e3", "1_000", "+5", "١٢", "１２", "12345678901234567890.5",
    ]  # fmt: skip
    column = pd.Series(edge_values, dtype="str")
    patterns = {
        kwargs["regex"]
        for fmt in ("bank_scrooge", "bank_dataset")
        for _, kwargs, _ in suites.raw_spec(fmt)[0]
        if "regex" in kwargs
    }
    assert len(patterns) >= 4
    for pattern in patterns:
        expected = [re.search(pattern, value) is not None for value in edge_values]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "has match groups": the number grammar's group
            found = column.str.contains(pattern).tolist()
        assert found == expected, pattern
        assert any(expected) and not all(expected), pattern
