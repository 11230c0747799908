"""The Python step's pieces that need no Spark: literals, and the SQL a Spark relation composes."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from metanprom.ingest.quality import PYSPARK_PANDAS_WARNING
from metanprom.spark_step import SqlRelation, _literal, spark_string


class _Recorder:
    """A stand-in for the step's connection: records the SQL and answers with a fixed frame."""

    def __init__(self, answer: pd.DataFrame) -> None:
        self.answer = answer
        self.queries: list[str] = []
        self.executed: list[str] = []

    def query(self, sql: str) -> pd.DataFrame:
        self.queries.append(sql)
        return self.answer

    def execute(self, sql: str) -> None:
        self.executed.append(sql)


def test_spark_literals_keep_text_and_doubles_exactly() -> None:
    # Spark reads backslash escapes in string literals: both the backslash and the quote are escaped
    assert spark_string("O'Brien \\ Co") == "'O\\'Brien \\\\ Co'"
    # the shortest repr of a double reads back as the same double (Java's Double.parseDouble does too)
    assert _literal(0.1 + 0.2, "double") == "cast('0.30000000000000004' as double)"
    assert _literal(float("inf"), "double") == "cast('Infinity' as double)"
    assert _literal(None, "bigint") == "cast(null as bigint)"
    assert _literal(math.nan, "double") == "cast(null as double)"
    assert _literal(7, "bigint") == "cast(7 as bigint)"


def test_a_relation_composes_the_sql_duckdb_would_run() -> None:
    engine = _Recorder(pd.DataFrame({"n": [3], "mean": [math.nan], "q": [None]}))
    customers = SqlRelation(engine, "select * from metanprom.customers").set_alias("customers")
    groups = customers.filter("extract = 'x'").project("is_active as in_a, age as y")
    row = groups.query("g", "with kept as (select * from g where y > 1) select count(*) from kept").fetchall()
    # the query's own WITH is merged with the CTE that names the relation; each step nests the one before
    assert engine.queries == [
        "with g as (select is_active as in_a, age as y from (select * from (select * from metanprom.customers) as"
        " customers where extract = 'x') as customers), kept as (select * from g where y > 1) select count(*) from"
        " kept"
    ]
    assert row == [(3, None, None)]  # a missing number is None, as DuckDB gives it
    # the composed SQL runs on an engine (DuckDB here, with the table it names)
    con = duckdb.connect()
    con.execute("create schema metanprom")
    con.execute("create table metanprom.customers as select 'x' as extract, true as is_active, 2 as age")
    assert con.execute(engine.queries[0]).fetchall() == [(1,)]
    kept = groups.materialize()
    assert engine.executed[0].startswith("cache table metanprom_kept_")
    assert kept.text.startswith("select * from metanprom_kept_")


#: The plugin's tests run in a process of their own (a file, as every test script here): importing dbt-spark
#: into pytest's process, beside the in-process DuckDB builds of other tests, left DuckDB objects alive at the
#: interpreter's exit, which nanobind reported as leaks when pytest ended.
PLUGIN_SCRIPT = """
from dbt.adapters.spark.impl import SparkAdapter
from dbt_common.context import get_invocation_context, set_invocation_context

import dbt_metanprom


def invocation_on(*adapters):
    # a new dbt invocation context, as dbt makes for each command, whose profile uses `adapters`
    set_invocation_context({})
    for adapter in adapters:
        get_invocation_context().uses_adapter(adapter)


original = SparkAdapter.python_submission_helpers
"""


def _run_plugin(tmp_path, body: str) -> None:
    """PLUGIN_SCRIPT and then `body` (its assertions) in a new interpreter, which must end well."""
    script = tmp_path / "plugin.py"
    script.write_text(PLUGIN_SCRIPT + body + 'print("checked")\n', encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "checked"


def test_the_dbt_plugin_gives_dbt_spark_the_python_step_on_this_project_only(tmp_path) -> None:
    """dbt_metanprom adds the submission method `metanprom_python_step` to dbt-spark's helpers when dbt starts on
    this project (once, however many commands run in the process), and leaves another project's dbt alone."""
    _run_plugin(
        tmp_path,
        """
invocation_on("spark")
dbt_metanprom.PythonStepPlugin(project_name="jaffle_shop")
assert SparkAdapter.python_submission_helpers is original, "another project's dbt is left alone"
for _ in range(2):
    dbt_metanprom.PythonStepPlugin(project_name="metanprom")
helpers = SparkAdapter.python_submission_helpers.fget(None)
assert helpers[dbt_metanprom.SUBMISSION_METHOD] is dbt_metanprom.PythonStepJob
assert set(helpers) == {*original.fget(None), dbt_metanprom.SUBMISSION_METHOD}, sorted(helpers)
""",
    )


def test_the_dbt_plugin_leaves_dbt_spark_alone_on_another_adapter(tmp_path) -> None:
    """On this project with a DuckDB profile the plugin patches nothing and imports no dbt-spark; with no adapter
    known yet it acts as on Spark."""
    _run_plugin(
        tmp_path,
        """
invocation_on("duckdb")
dbt_metanprom.PythonStepPlugin(project_name="metanprom")
assert SparkAdapter.python_submission_helpers is original
invocation_on()
dbt_metanprom.PythonStepPlugin(project_name="metanprom")
assert dbt_metanprom.SUBMISSION_METHOD in SparkAdapter.python_submission_helpers.fget(None)
""",
    )

    script = (
        "import sys\n"
        "from dbt_common.context import get_invocation_context, set_invocation_context\n"
        "import dbt_metanprom\n"
        "set_invocation_context({})\n"
        "get_invocation_context().uses_adapter(sys.argv[1])\n"
        "dbt_metanprom.PythonStepPlugin(project_name='metanprom')\n"
        "print(sorted(m for m in sys.modules if m.startswith('dbt.adapters.spark')))\n"
    )
    imported = {
        adapter: subprocess.run(
            [sys.executable, "-c", script, adapter], capture_output=True, text=True, check=True
        ).stdout.strip()
        for adapter in ("duckdb", "spark")
    }
    assert imported["duckdb"] == "[]"
    assert "dbt.adapters.spark.impl" in imported["spark"]


def test_a_submitted_step_reads_its_inputs_and_writes_its_rows(monkeypatch) -> None:
    """What the materialization submits (JSON: the inputs' relations and the table to write) reaches the model's
    step with the model's config, and the step's rows are written to that table."""
    import json

    import dbt_metanprom
    from metanprom import spark_step
    from metanprom.statistics import steps

    recorder = _Recorder(pd.DataFrame({"extract": ["bank_scrooge"], "customers": [3]}))
    seen = {}

    def compute(inputs, config):
        seen.update(inputs=inputs, config=config)
        return pd.DataFrame({"extract": ["bank_scrooge"], "rate": [0.25]})

    step = steps.Step(inputs=("int_counts",), compute=compute)
    monkeypatch.setitem(steps.STEPS, "a_model", step)
    monkeypatch.setattr(spark_step, "connect", lambda: recorder)
    model = {"name": "a_model", "schema": "metanprom", "config": {"meta": {"alpha": 0.05}}}
    job = {"inputs": {"int_counts": "metanprom_staging.int_counts"}, "target": "metanprom.a_model__step_abc"}
    dbt_metanprom.PythonStepJob(model, credentials=None).submit(json.dumps(job))
    assert recorder.queries == ["select * from metanprom_staging.int_counts"]
    assert seen["inputs"]["int_counts"].equals(recorder.answer) and seen["config"] == model["config"]
    assert recorder.executed[:2] == [
        "drop table if exists metanprom.a_model__step_abc",
        "create table metanprom.a_model__step_abc (`extract` string, `rate` double) using parquet",
    ]
    assert (
        recorder.executed[2]
        == "insert into metanprom.a_model__step_abc values ('bank_scrooge', cast('0.25' as double))"
    )


def test_a_thrift_query_reads_arrays_back_as_lists() -> None:
    """A Thrift server sends an array (percentile()'s quantiles) as its JSON text: the step's Thrift connection
    gives it back as a list, and leaves text that only looks like JSON alone."""
    from metanprom.spark_step import ThriftSql

    class Cursor:
        description = (("q.quantiles", "ARRAY_TYPE"), ("q.n", "BIGINT_TYPE"), ("q.label", "STRING_TYPE"))

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            pass

        def execute(self, sql: str) -> None:
            self.sql = sql

        def fetchall(self):
            return [("[1.0,2.5,NaN]", 3, "[not json"), (None, 0, "[]")]

    thrift = ThriftSql.__new__(ThriftSql)
    thrift.connection = type("Connection", (), {"cursor": lambda self: Cursor()})()
    frame = thrift.query("select ...")
    assert list(frame.columns) == ["quantiles", "n", "label"]
    assert frame["quantiles"][0][:2] == [1.0, 2.5] and math.isnan(frame["quantiles"][0][2])
    assert frame["quantiles"][1] is None
    assert list(frame["label"]) == ["[not json", "[]"]


#: In a new interpreter with every warning shown (-W default): PySpark's pandas warning said once, then given
#: again, between warning filter changes as dbt and pandas make them, beside another FutureWarning.
WARN_SCRIPT = """
import warnings
from metanprom import spark_step
from metanprom.ingest.quality import PYSPARK_PANDAS_WARNING
for _ in range(2):
    spark_step.say_pyspark_pandas_warning_once()
for i in range(3):
    warnings.warn(PYSPARK_PANDAS_WARNING + f" (conversion {i})", FutureWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
warnings.warn("another future change", FutureWarning)
"""


def test_pyspark_pandas_warning_is_said_once_and_other_warnings_still_shown(tmp_path) -> None:
    """Without the note, PySpark's warning that it does not fully support pandas >= 3 is shown at every
    conversion (Python forgets what it showed whenever the filters change): it is said once, by one line naming
    both versions, and any other warning is still shown; with the thrift method (no PySpark in the process) the
    warnings are left as they are."""
    pyspark = pytest.importorskip("pyspark", reason="PySpark is not installed: nothing warns")
    script = tmp_path / "warn.py"
    script.write_text(WARN_SCRIPT, encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if name != "METANPROM_SPARK_METHOD"}
    command = [sys.executable, "-W", "default", str(script)]
    shown = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    notes = [line for line in shown.stderr.splitlines() if line.startswith("note: PySpark")]
    if int(pd.__version__.split(".")[0]) >= 3:
        assert notes == [
            f"note: PySpark {pyspark.__version__} warns that it does not yet fully support pandas >= 3 (pandas "
            f"{pd.__version__} here), shown once: test_spark checks every mart Spark builds against DuckDB's"
        ]
    else:
        assert notes == []
    assert "conversion" not in shown.stderr
    assert "FutureWarning: another future change" in shown.stderr

    # with the thrift method this process runs no PySpark: nothing said, nothing left out
    thrift = subprocess.run(
        command, capture_output=True, text=True, check=True, env={**env, "METANPROM_SPARK_METHOD": "thrift"}
    )
    assert "note: PySpark" not in thrift.stderr
    assert thrift.stderr.count("FutureWarning: " + PYSPARK_PANDAS_WARNING) == 3
