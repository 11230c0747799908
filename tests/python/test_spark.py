"""The project on Apache Spark (`--target spark`: dbt-spark's session method, a local pyspark) builds what
DuckDB builds, on the shipped sample.

`metanprom spark-build` builds the project on a local Spark: dbt builds the SQL models, seeds and tests;
the Python step computes the Python models dbt-spark cannot run (it runs them only on Databricks): every
one of them has a step (`metanprom.statistics.steps.STEPS`); a model without one would be left out with what
it feeds, and the build would say so. Every public mart Spark builds (tables and views, read back through
Spark) is
compared with DuckDB's from a plain `dbt build`: the same columns, the same rows, whole numbers and text
exact, other numbers equal to 1e-9 relative.

Needs pyspark and a Java 17+ runtime (`bash python/bootstrap.sh` installs both); without them the test is
skipped, except in CI, where it fails.
"""

from __future__ import annotations

import csv
import importlib.util
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


def _dbt_build(root: Path, target: str, *selection: str, env: dict[str, str] | None = None) -> None:
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


@pytest.fixture(scope="module")
def duckdb_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain `dbt build` of the whole project on DuckDB (no gates); the warehouse file."""
    root = tmp_path_factory.mktemp("duckdb")
    _dbt_build(root, "dev")
    return root / "metanprom.duckdb"


#: Reads every table and view of the Spark build's public marts back through Spark (the metanprom database
#: of the metastore under argv[1]) into Parquet files under argv[2], one folder per relation.
_READ_BACK = """
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
for row in spark.sql("show tables in metanprom").collect():
    spark.table("metanprom." + row.tableName).coalesce(1).write.parquet(f"{out}/{row.tableName}")
spark.stop()
"""


@pytest.fixture(scope="module")
def spark_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """`metanprom spark-build` on the shipped seeds, then every public mart read back through Spark; the folder
    of the marts' Parquet copies and the build's outcome."""
    _require_spark()
    root = tmp_path_factory.mktemp("spark")
    env = {
        **os.environ,
        "METANPROM_SPARK_DIR": str(root / "spark"),
        "DBT_LOG_PATH": str(root / "logs"),
        "DBT_TARGET_PATH": str(root / "target"),
    }
    for name in ("METANPROM_BANK_SCROOGE_PATH", "METANPROM_BANK_DATASET_PATH", "METANPROM_QUALITY_RESULTS_PATH"):
        env.pop(name, None)
    metanprom = Path(sys.executable).with_name("metanprom")
    built = subprocess.run([str(metanprom), "spark-build"], cwd=root, env=env, capture_output=True, text=True)
    assert built.returncode in (0, 2), f"metanprom spark-build failed:\n{built.stdout[-6000:]}\n{built.stderr[-4000:]}"
    read = subprocess.run(  # in `root`: Derby writes its derby.log into the folder Spark starts in
        [sys.executable, "-c", _READ_BACK, str(root / "spark"), str(root / "marts")],
        cwd=root,
        env=env,
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


def test_spark_build_runs_every_python_step_and_names_what_it_left_out(
    spark_build: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    from metanprom.statistics.steps import STEPS

    _, built = spark_build
    without_step = sorted(set(PYTHON_MODELS) - set(STEPS))
    assert f"Python steps run: {', '.join(sorted(STEPS))}" in built.stdout
    if without_step:
        assert built.returncode == 2, "an incomplete build must not exit 0"
        assert "no Python step yet on Spark for " + ", ".join(without_step) in built.stderr
    else:
        assert built.returncode == 0


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
        ids = [row["USERID"].strip() for row in csv.DictReader(handle)]
    _dbt_build(
        tmp_path,
        "spark",
        "--select", "+int_customers_validated", "--exclude", "resource_type:test", "resource_type:unit_test",
        env={
            "METANPROM_BANK_SCROOGE_PATH": str(extract),
            "PYSPARK_SUBMIT_ARGS": "--conf spark.sql.files.maxPartitionBytes=16384 pyspark-shell",
        },
    )  # fmt: skip
    spark_dir = tmp_path / "spark"
    assert extract.stat().st_size > 10 * 16384  # the file is read in more than 10 partitions
    staged = duckdb.sql(
        f"select customer_id, source_row_number from "
        f"read_parquet('{spark_dir}/tables/metanprom_staging.db/int_customers_validated/*.parquet') "
        f"where extract = 'bank_scrooge' order by source_row_number"
    ).fetchall()
    assert [number for _, number in staged] == list(range(1, len(ids) + 1))
    assert [customer_id for customer_id, _ in staged] == [i or None for i in ids]


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
