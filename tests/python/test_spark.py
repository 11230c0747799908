"""The project on Apache Spark (`--target spark`: dbt-spark's session method, a local pyspark) builds and checks
what DuckDB builds and checks, on the shipped sample.

A plain `dbt build --target spark` builds the project on a local Spark: dbt builds the SQL models, seeds and
tests; the Python models, which dbt-spark runs only on Databricks, are computed by their Python step, which
their materialization submits through the dbt plugin dbt_metanprom (every one of them has a step,
`metanprom.statistics.steps.STEPS`). Every public mart Spark builds (tables and views, read back through Spark)
is compared with DuckDB's from a plain `dbt build`: the same columns, the same rows, whole numbers and text
exact, other numbers equal to 1e-9 relative. The quality gates on Spark (the files read by Spark, the marts
checked where they are) report what they report on DuckDB; `metanprom run --target spark` delivers what it
delivers on DuckDB.

Needs pyspark and a Java 17+ runtime (`bash python/bootstrap.sh` installs both); without them the test is
skipped, except in CI, where it fails.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from metanprom.delivery.export import PUBLIC_MARTS
from metanprom.devtools.generator import generate
from metanprom.ingest import suites
from metanprom.ingest.formats import FORMATS
from metanprom.settings import PROJECT_DIR

pytestmark = pytest.mark.integration

#: The dbt Python models: on Spark the Python step computes them.
PYTHON_MODELS = sorted(path.stem for path in (PROJECT_DIR / "models").rglob("*.py"))
#: The public marts a Spark build must hold (every public mart of the DuckDB build).
ON_SPARK = set(PUBLIC_MARTS)


def _spark_missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (bash python/bootstrap.sh installs it)"
    java = shutil.which("java")
    if java is None:
        return "no Java runtime on PATH (Debian's openjdk-17-jre-headless; bash python/bootstrap.sh installs it)"
    version = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    found = re.search(r'version "(\d+)', version)
    if not found or int(found.group(1)) < 17:
        return f"Spark 4 needs Java 17 or newer; found: {version.splitlines()[0] if version else 'nothing'}"
    return None


def _require_spark() -> None:
    missing = _spark_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Spark test: {missing}")
        pytest.skip(missing)


def _dbt_build(
    root: Path, target: str, *selection: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`dbt build --target <target> <selection>` on the shipped seeds (or the files `env` names), with its
    warehouse (a DuckDB file, or a Spark warehouse folder), target and logs under `root`."""
    environment = {
        **os.environ,
        "METANPROM_SPARK_DIR": str(root / "spark"),
        "METANPROM_DUCKDB_PATH": str(root / "metanprom.duckdb"),
        **(env or {}),
    }
    for name in ("METANPROM_BANK_SCROOGE_PATH", "METANPROM_BANK_DATASET_PATH", "METANPROM_QUALITY_RESULTS_PATH"):
        if name not in (env or {}):
            environment.pop(name, None)
    dbt = Path(sys.executable).with_name("dbt")
    command = [
        str(dbt), "build", "--target", target,
        "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(root / "target"), "--log-path", str(root / "logs"), *selection,
    ]  # fmt: skip
    done = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True)
    assert done.returncode == 0, f"dbt build --target {target} failed:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def duckdb_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain `dbt build` of the whole project on DuckDB (no gates); the warehouse file."""
    root = tmp_path_factory.mktemp("duckdb")
    _dbt_build(root, "dev")
    return root / "metanprom.duckdb"


#: A Spark session on the metastore and tables of a Spark build under argv[1].
_SESSION = """
import sys
from pyspark.sql import SparkSession
spark_dir, out = sys.argv[1], sys.argv[2]
spark = (
    SparkSession.builder.master("local[2]").enableHiveSupport()
    .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC")
    .config("spark.sql.warehouse.dir", spark_dir + "/tables")
    .config("spark.hadoop.javax.jdo.option.ConnectionURL", f"jdbc:derby:;databaseName={spark_dir}/metastore_db")
    .getOrCreate()
)
"""
#: Reads every table and view of the Spark build's public marts back through Spark (the metanprom database
#: of the metastore under argv[1]) into Parquet files under argv[2], one folder per relation.
_READ_BACK = (
    _SESSION
    + """
for row in spark.sql("show tables in metanprom").collect():
    spark.table("metanprom." + row.tableName).coalesce(1).write.parquet(f"{out}/{row.tableName}")
spark.stop()
"""
)
#: The mart gate's keyed samples (GE_MAX_ROWS = argv[3]) of three marts of the Spark build, drawn by Spark, as
#: Parquet files under argv[2].
_MART_SAMPLES = (
    _SESSION
    + """
from metanprom.ingest import quality
from metanprom.ingest.gate_sql import SparkGate

class Sql:
    def query(self, sql):
        return spark.sql(sql).toPandas()

    def execute(self, sql):
        spark.sql(sql).collect()

quality.GE_MAX_ROWS = int(sys.argv[3])
marts = ("customers", "customer_clusters", "dashboard_customers")
gate = SparkGate(Sql(), {mart: "metanprom." + mart for mart in marts})
for mart in marts:
    quality._mart_sample(gate, "metanprom." + mart, 10**6).to_parquet(f"{out}/{mart}.parquet")
spark.stop()
"""
)


@pytest.fixture(scope="module")
def spark_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A plain `dbt build --target spark` (dbt's own command line) on the shipped seeds, then every public mart
    read back through Spark; the folder of the marts' Parquet copies and the build's outcome."""
    _require_spark()
    root = tmp_path_factory.mktemp("spark")
    built = _dbt_build(root, "spark")
    read = subprocess.run(  # in `root`: Derby writes its derby.log into the folder Spark starts in
        [sys.executable, "-c", _READ_BACK, str(root / "spark"), str(root / "marts")],
        cwd=root,
        env={**os.environ, "METANPROM_SPARK_DIR": str(root / "spark")},
        capture_output=True,
    )
    assert read.returncode == 0, read.stderr[-3000:]
    return root / "marts", built


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), na_position="first").reset_index(drop=True)


def _assert_same(mart: str, duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    assert list(spark.columns) == list(duck.columns), f"{mart}: columns differ"
    assert len(spark) == len(duck), f"{mart}: {len(spark)} rows on Spark, {len(duck)} on DuckDB"
    duck, spark = _rows(duck), _rows(spark)
    for column in duck.columns:
        left, right = duck[column], spark[column]
        if pd.api.types.is_float_dtype(left) or pd.api.types.is_float_dtype(right):
            assert np.allclose(left.astype(float), right.astype(float), rtol=1e-9, atol=0, equal_nan=True), (
                f"{mart}.{column}: numbers differ beyond 1e-9 relative"
            )
        else:
            as_list = [None if pd.isna(v) else v for v in left.astype(object)]
            assert as_list == [None if pd.isna(v) else v for v in right.astype(object)], f"{mart}.{column} differs"


def test_a_plain_dbt_build_on_spark_runs_every_python_model_by_its_step(
    spark_build: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    """dbt-spark runs Python models only on Databricks; with the dbt plugin dbt_metanprom, a plain `dbt build
    --target spark` computes each of them by its Python step (materialization `python_step`), every one of them
    has a step, and nothing is skipped."""
    from metanprom.statistics.steps import STEPS

    _, built = spark_build
    assert sorted(STEPS) == PYTHON_MODELS
    for model in PYTHON_MODELS:
        assert re.search(rf"OK created python python_step model \w+\.{model} ", built.stdout), model
    assert re.search(r"ERROR=0 SKIP=0", built.stdout)


def test_spark_builds_the_marts_duckdb_builds(
    spark_build: tuple[Path, subprocess.CompletedProcess[str]], duckdb_build: Path
) -> None:
    marts_dir, _ = spark_build
    on_spark = {folder.name for folder in marts_dir.iterdir()}
    assert on_spark >= ON_SPARK, f"Spark did not build {sorted(ON_SPARK - on_spark)}"
    with duckdb.connect(str(duckdb_build), read_only=True) as con:
        for mart in sorted(on_spark):
            duck = con.execute(f"select * from main.{mart}").df()
            spark = duckdb.sql(f"select * from read_parquet('{marts_dir / mart}/*.parquet')").df()
            _assert_same(mart, duck, spark)


def test_each_python_model_reads_what_its_step_declares() -> None:
    """A Python model's refs (its dependencies in dbt's graph) are its step's inputs: the Spark build reads
    exactly those tables, and waits for exactly those models."""
    from metanprom.statistics.steps import STEPS

    for model, step in STEPS.items():
        source = next((PROJECT_DIR / "models").rglob(f"{model}.py")).read_text(encoding="utf-8")
        refs = set(re.findall(r"dbt\.ref\(\"(\w+)\"\)", source))
        assert refs == set(step.inputs), f"{model}.py reads {sorted(refs)}; its step declares {step.inputs}"
        assert f'STEPS["{model}"]' in source


def test_spark_reads_a_user_file_in_place_and_numbers_its_rows_in_file_order(tmp_path: Path) -> None:
    """A user's extract is read by Spark's CSV reader; `source_row_number` comes from the reader's partitions.
    With the file cut into many partitions (a 16 KiB maxPartitionBytes), each row still gets its line's
    number: 1, 2, ... in the file's order."""
    _require_spark()
    extract = tmp_path / "extract.csv"
    generate("bank_scrooge", 6000, extract, seed=7)
    with extract.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # values Spark's cast reads as doubles that are not finite: not numbers, as on DuckDB (parse_number)
    not_finite = {11: ("balance", "nan"), 22: ("balance", "-Infinity"), 33: ("EST_SALARY", "inf"), 44: ("score", "NaN")}
    # values Spark's cast reads as numbers (DuckDB's too, but for '5d'), outside the project's number grammar (var
    # number_pattern): not numbers on either engine
    outside = {55: ("balance", "1e3"), 66: ("EST_SALARY", "5d"), 77: ("score", "+650"), 88: ("balance", ".5")}
    not_finite |= outside | {99: ("credit_card", "1.0")}  # a flag is 0 or 1 (parse_flag_text)
    not_finite |= {110: ("score", "\t650")}  # a tab is no space (var space_separators)
    for row_number, (column, value) in not_finite.items():
        rows[row_number - 1][column] = value
    # Unicode's space separators around a value are forgiven, as DuckDB's trim() forgives them (Spark's trim()
    # alone removes only the space): macro trim_spaces
    spaced = {121: "balance", 122: "score", 123: "credit_card", 124: "city", 125: "gender", 126: "USERID"}
    for row_number, column in spaced.items():
        rows[row_number - 1][column] = f"\u00a0{rows[row_number - 1][column] or '1'}\u3000\u2009"
    with extract.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    ids = [row["USERID"].strip() for row in rows]
    _dbt_build(
        tmp_path,
        "spark",
        "--select", "+stg_bank_scrooge__customers", "--exclude", "resource_type:test", "resource_type:unit_test",
        env={
            "METANPROM_BANK_SCROOGE_PATH": str(extract),
            "PYSPARK_SUBMIT_ARGS": "--conf spark.sql.files.maxPartitionBytes=16384 pyspark-shell",
        },
    )  # fmt: skip
    spark_dir = tmp_path / "spark"
    assert extract.stat().st_size > 10 * 16384  # the file is read in more than 10 partitions
    staged = duckdb.sql(
        f"select customer_id, source_row_number, unparsed_columns, city_raw, gender from "
        f"read_parquet('{spark_dir}/tables/metanprom_staging.db/stg_bank_scrooge__customers/*.parquet') "
        f"order by source_row_number"
    ).fetchall()
    assert [row[1] for row in staged] == list(range(1, len(ids) + 1))
    assert [row[0] for row in staged] == [i or None for i in ids]
    canonical = {"balance": "balance", "EST_SALARY": "estimated_salary", "score": "credit_score"}
    canonical["credit_card"] = "has_credit_card"
    unparsed = {row[1]: row[2] for row in staged if row[2] is not None}
    assert unparsed == {row_number: canonical[column] for row_number, (column, _) in not_finite.items()}
    assert staged[123][3] == rows[123]["city"].strip() and staged[124][4] in ("F", "M")


def _metanprom_run(root: Path, *options: str) -> tuple[Path, str]:
    """`metanprom run <options>` on the shipped seeds with its warehouse, exports, report and Spark under `root`;
    the warehouse file and the summary it printed."""
    env = {
        **os.environ,
        "METANPROM_SPARK_DIR": str(root / "spark"),
        "METANPROM_OUTPUT_DIR": str(root / "output"),
        "DBT_LOG_PATH": str(root / "logs"),
        "DBT_TARGET_PATH": str(root / "target"),
    }
    for name in ("METANPROM_BANK_SCROOGE_PATH", "METANPROM_BANK_DATASET_PATH", "METANPROM_QUALITY_RESULTS_PATH"):
        env.pop(name, None)
    warehouse = root / "warehouse" / "metanprom.duckdb"
    metanprom = Path(sys.executable).with_name("metanprom")
    command = [str(metanprom), "run", "--warehouse", str(warehouse), "--exports", str(root / "exports"), *options]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"metanprom run {options} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    summary = done.stdout[done.stdout.index("extract          rows read") : done.stdout.index("warehouse: ")]
    return warehouse, summary


def test_metanprom_run_on_spark_delivers_what_it_delivers_on_duckdb(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`metanprom run --target spark`: the raw gate, the build on Spark, the public marts copied into the
    warehouse file, the mart gate, the exports and the report; against `metanprom run` on DuckDB: the same
    summary, every public mart with the same columns, types and rows, the same export files (Parquet compared
    row for row) and the same report but for the footer."""
    _require_spark()
    spark_root, duck_root = tmp_path_factory.mktemp("run_spark"), tmp_path_factory.mktemp("run_duckdb")
    spark_warehouse, spark_summary = _metanprom_run(spark_root, "--target", "spark")
    duck_warehouse, duck_summary = _metanprom_run(duck_root)
    assert spark_summary == duck_summary
    columns = (
        "select column_name, data_type from information_schema.columns where table_name = ? order by ordinal_position"
    )
    with (
        duckdb.connect(str(duck_warehouse), read_only=True) as duck,
        duckdb.connect(str(spark_warehouse), read_only=True) as spark,
    ):
        for mart in PUBLIC_MARTS:
            assert duck.execute(columns, [mart]).fetchall() == spark.execute(columns, [mart]).fetchall(), mart
            _assert_same(
                mart, duck.execute(f"select * from main.{mart}").df(), spark.execute(f"select * from main.{mart}").df()
            )
    files = {
        root: sorted(p.relative_to(root / "exports") for p in (root / "exports").rglob("*") if p.is_file())
        for root in (spark_root, duck_root)
    }
    assert files[spark_root] == files[duck_root]
    for mart in PUBLIC_MARTS:
        parquet = [
            duckdb.sql(f"select * from read_parquet('{root / 'exports' / 'parquet' / mart}.parquet')").df()
            for root in (duck_root, spark_root)
        ]
        _assert_same(f"{mart}.parquet", *parquet)
    number = re.compile(r'data-value="([^"]*)"')
    for lang in ("en", "ru"):
        duck_page, spark_page = (
            (root / "output" / "report" / f"report_{lang}.html").read_text(encoding="utf-8").split("<footer>")[0]
            for root in (duck_root, spark_root)
        )
        # every figure the report shows carries its exact value: equal to 1e-9 relative (sums in another order)
        assert number.sub("", duck_page) == number.sub("", spark_page), f"report_{lang}.html differs"
        duck_values, spark_values = (number.findall(page) for page in (duck_page, spark_page))
        assert len(duck_values) == len(spark_values) > 50
        for left, right in zip(duck_values, spark_values, strict=True):
            try:
                assert float(left) == pytest.approx(float(right), rel=1e-9, abs=1e-12), (lang, left, right)
            except ValueError:
                assert left == right, (lang, left, right)


#: The raw gate's engine-side work on Spark, for files given as argv[2] (JSON: [label, format, path or URI]),
#: with GE_MAX_ROWS = argv[1]: the columns read, the sample Great Expectations would validate, the range checks
#: on every row and the row count, or the error that refuses the file; as JSON.
_RAW_GATE_ON_SPARK = """
import dataclasses, json, sys
from metanprom.ingest import quality, suites
from metanprom.ingest.gate_sql import SparkGate
from metanprom.spark_step import SessionSql
quality.GE_MAX_ROWS = int(sys.argv[1])
gate = SparkGate(SessionSql())
out = {}
for label, fmt, path in json.loads(sys.argv[2]):
    try:
        relation, present = gate.read_raw(path, fmt)
        sample = quality._raw_sample(gate, relation, fmt, present)
        numbers, rows = quality.number_checks(gate, relation, fmt, suites.raw_spec(fmt)[1])
        out[label] = {
            "present": present,
            "sample": sample.astype(object).where(sample.notna(), None).values.tolist(),
            "numbers": [dataclasses.asdict(r) for r in numbers],
            "rows": rows,
        }
    except quality.UnreadableExtractError as error:
        out[label] = {"error": str(error)}
print(json.dumps(out))
"""


def _raw_gate_on_duckdb(fmt: str, path: Path) -> dict[str, object]:
    from dataclasses import asdict

    from metanprom.ingest import quality, suites
    from metanprom.ingest.gate_sql import DuckDbGate

    gate = DuckDbGate()
    try:
        relation, present = gate.read_raw(path, fmt)
        sample = quality._raw_sample(gate, relation, fmt, present)
        numbers, rows = quality.number_checks(gate, relation, fmt, suites.raw_spec(fmt)[1])
    except quality.UnreadableExtractError as error:
        return {"error": str(error)}
    finally:
        gate.close()
    return {
        "present": present,
        "sample": sample.astype(object).where(sample.notna(), None).values.tolist(),
        "numbers": [asdict(r) for r in numbers],
        "rows": rows,
    }


def test_the_raw_gate_on_spark_sees_what_it_sees_on_duckdb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The raw gate's SQL on Spark (the file read by Spark's CSV reader, in place; a file:// URI too) gives what it
    gives on DuckDB: the same columns; the same keyed sample of a file larger than GE_MAX_ROWS (the md5 of key and
    seed, worked by each engine) and every row of a smaller one in the file's order; the same range checks on every
    row with the same first values; the same row count. A row with more fields than the header is refused on
    both, by line, though Spark's reader alone would drop the extra field without a word."""
    from metanprom.ingest import quality

    _require_spark()
    seeds = PROJECT_DIR / "seeds"
    lines = (seeds / "bank_scrooge.csv").read_text(encoding="utf-8").splitlines()
    header, body = lines[0], lines[1:]
    balance = header.split(",").index("balance")
    corrupted = []
    for i, line in enumerate(body[:3000]):
        fields = line.split(",")
        if i in (7, 2500):
            fields[balance] = f"-{5000 + i}.0"  # a negative balance, twice
        if i == 100:
            fields[balance] = "lots"  # does not parse: not counted by a range check
        if i in (200, 300, 400):
            fields[balance] = ("-inf", "NaN", "-Infinity")[i // 100 - 2]  # read as doubles, not finite: nor these
        if i in (500, 600):
            fields[balance] = ("-1e3", "-5d")[i // 100 - 5]  # read by a cast, outside the number grammar: nor these
        if i == 700:
            fields[balance] = "\u00a0-7.5\u3000"  # spaces forgiven (var space_separators): a negative balance
        if i == 800:
            fields[balance] = "\t-8.5"  # a tab is no space: does not parse, not counted
        corrupted.append(",".join(fields))
    bad = tmp_path / "corrupted.csv"
    bad.write_text("\n".join([header, *corrupted]) + "\n", encoding="utf-8")
    long_row = tmp_path / "long_row.csv"
    long_row.write_text("\n".join([header, *body[:50], body[50] + ",surplus", *body[51:60]]) + "\n", encoding="utf-8")
    cases = [
        ("keyed sample", "bank_scrooge", seeds / "bank_scrooge.csv", 40),
        ("whole file", "bank_dataset", seeds / "bank_dataset.csv", 20_000),
        ("corrupted", "bank_scrooge", bad, 20_000),
        ("long row", "bank_scrooge", long_row, 20_000),
    ]
    seen: dict[str, dict[str, object]] = {}
    for limit in sorted({case[3] for case in cases}):
        chosen = [case for case in cases if case[3] == limit]
        files = [[label, fmt, str(path)] for label, fmt, path, _ in chosen]
        if limit == 20_000:
            files.append(["corrupted, as a URI", "bank_scrooge", bad.as_uri()])
        done = subprocess.run(
            [sys.executable, "-c", _RAW_GATE_ON_SPARK, str(limit), json.dumps(files)],
            cwd=tmp_path, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-4000:]
        on_spark = json.loads(done.stdout.strip().splitlines()[-1])
        monkeypatch.setattr(quality, "GE_MAX_ROWS", limit)
        for label, fmt, path, _ in chosen:
            on_duckdb = json.loads(json.dumps(_raw_gate_on_duckdb(fmt, path)))
            assert on_spark[label] == on_duckdb, label
        if limit == 20_000:
            assert on_spark["corrupted, as a URI"] == on_spark["corrupted"]
        seen.update(on_spark)
    refused = seen["long row"]["error"]
    assert refused.startswith(f"{long_row}: line(s) 52 have more fields than the header's 12")
    corrupted_balance = next(r for r in seen["corrupted"]["numbers"] if r["column"] == "balance")
    assert corrupted_balance["unexpected_count"] == 3
    assert corrupted_balance["observed"] == "e.g. [-5007.0, -7.5, -7500.0]"
    assert len(seen["keyed sample"]["sample"]) == 40 and seen["whole file"]["rows"] == 10_000


def test_metanprom_check_on_spark_reports_what_it_reports_on_duckdb(
    spark_build: tuple[Path, subprocess.CompletedProcess[str]], duckdb_build: Path, tmp_path: Path
) -> None:
    """`metanprom check --target spark`: the shipped extracts read by Spark and the marts of the Spark build
    checked where they are, with Data Docs; the same checks and outcomes, line for line, as `metanprom check` on
    the extracts and the DuckDB build's warehouse file."""
    marts_dir, _ = spark_build
    root = marts_dir.parent
    env = {
        **os.environ,
        "METANPROM_SPARK_DIR": str(root / "spark"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
    }
    for name in ("METANPROM_BANK_SCROOGE_PATH", "METANPROM_BANK_DATASET_PATH", "METANPROM_QUALITY_RESULTS_PATH"):
        env.pop(name, None)
    metanprom = str(Path(sys.executable).with_name("metanprom"))
    outputs = {}
    for target, extra in (("spark", []), ("dev", ["--warehouse", str(duckdb_build)])):
        docs = tmp_path / f"docs_{target}"
        done = subprocess.run(
            [metanprom, "check", "--target", target, "--docs", str(docs), *extra],
            cwd=root, env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, f"metanprom check --target {target}:\n{done.stdout[-4000:]}\n{done.stderr[-3000:]}"
        outputs[target] = [line for line in done.stdout.splitlines() if not line.startswith("Data Docs: ")]
        assert (docs / "index.html").exists() and list((docs / "validations").rglob("*.html")), target
    assert outputs["spark"] == outputs["dev"]
    # every raw and mart expectation ran, and the reconciliation of each extract's rows
    raw = sum(len(text) + len(numbers) for text, numbers in (suites.raw_spec(name) for name in FORMATS))
    marts = sum(len(spec) for spec in suites.mart_spec({name: 1 for name in FORMATS}).values())
    assert f"{raw + marts + len(FORMATS)} checks: " in outputs["spark"][-1]


def test_the_mart_gate_draws_the_same_keyed_samples_on_spark(
    spark_build: tuple[Path, subprocess.CompletedProcess[str]], duckdb_build: Path, tmp_path: Path, monkeypatch
) -> None:
    """Above GE_MAX_ROWS rows, the mart gate's samples drawn by Spark from the Spark build are those DuckDB draws
    from its own: the first customers by sample order, the rows of those customers, and an aggregate mart's rows
    by the md5 of its key (printed alike by both engines)."""
    from metanprom.ingest import quality
    from metanprom.ingest.gate_sql import DuckDbGate

    marts_dir, _ = spark_build
    drawn = subprocess.run(
        [sys.executable, "-c", _MART_SAMPLES, str(marts_dir.parent / "spark"), str(tmp_path), "30"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert drawn.returncode == 0, drawn.stderr[-3000:]
    monkeypatch.setattr(quality, "GE_MAX_ROWS", 30)
    gate = DuckDbGate(duckdb_build)
    try:
        for mart in ("customers", "customer_clusters", "dashboard_customers"):
            duck = quality._mart_sample(gate, gate.marts()[mart], 10**6)
            assert len(duck) == 30 or mart == "customer_clusters", mart
            _assert_same(f"{mart} sample", duck, pd.read_parquet(tmp_path / f"{mart}.parquet"))
    finally:
        gate.close()
