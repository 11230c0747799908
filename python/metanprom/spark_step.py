"""The Python step: the project's dbt Python models computed on Spark, and `dbt build` on Spark with it.

dbt-spark runs Python models only on Databricks. On Spark (the `spark` target of
profiles.yml) a Python model is materialized `python_step`
(macros/spark/python_step.sql): dbt submits its Python step through the dbt plugin
dbt_metanprom (python/dbt_metanprom), which calls `run_step`: it reads the model's
inputs from Spark, runs the same function dbt runs on DuckDB
(`metanprom.statistics.steps`), and writes the rows back as `<model>__step_<run>`;
the materialization turns those rows into the model's table, then its tests and
everything downstream run in dbt. So `dbt build --target spark` builds the whole
project; `build_on_spark` (`metanprom spark-build`) is that build, reporting which
steps ran and leaving out a Python model that has no step yet.

The step reaches Spark the way dbt does, from the same profile settings: with
the `session` method it is the SparkSession dbt runs in this process; with
`thrift`, a PyHive connection to the same Thrift server. The quality gates on
Spark (metanprom.ingest.gate_sql) use the same connection.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import os
import sys
import uuid
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from metanprom.ingest.quality import PYSPARK_PANDAS_WARNING
from metanprom.settings import PROJECT_DIR

#: The dbt target this module builds.
TARGET = "spark"
#: Rows per insert statement when the step writes its result (as the seeds on Spark: macros/spark/seeds.sql).
INSERT_BATCH = 1000


class SparkError(RuntimeError):
    """The build on Spark failed: the message names the node or step and why."""


class SparkSql(Protocol):
    def query(self, sql: str) -> pd.DataFrame: ...

    def execute(self, sql: str) -> None: ...


class SessionSql:
    """The SparkSession dbt-spark's `session` method runs in this process."""

    def __init__(self) -> None:
        from pyspark.sql import SparkSession

        # the session dbt-spark made in this process (getOrCreate returns it, with dbt's settings)
        self.session = SparkSession.builder.getOrCreate()

    def query(self, sql: str) -> pd.DataFrame:
        return self.session.sql(sql).toPandas()

    def execute(self, sql: str) -> None:
        self.session.sql(sql).collect()


#: Column types a Thrift server sends as JSON text.
THRIFT_JSON_TYPES = ("ARRAY_TYPE", "MAP_TYPE", "STRUCT_TYPE")


class ThriftSql:
    """A PyHive connection to the Thrift server the profile names (METANPROM_SPARK_HOST, _PORT, _USER, _AUTH)."""

    def __init__(self) -> None:
        from pyhive import hive

        auth = os.environ.get("METANPROM_SPARK_AUTH", "NONE")
        self.connection = hive.connect(
            host=os.environ.get("METANPROM_SPARK_HOST", "localhost"),
            port=int(os.environ.get("METANPROM_SPARK_PORT", "10000")),
            username=os.environ.get("METANPROM_SPARK_USER") or None,
            auth=auth,
            kerberos_service_name=os.environ.get("METANPROM_SPARK_KERBEROS_SERVICE") if auth == "KERBEROS" else None,
        )

    def query(self, sql: str) -> pd.DataFrame:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall()
            columns = [d[0].split(".")[-1] for d in cursor.description]
            complex_columns = [i for i, d in enumerate(cursor.description) if d[1] in THRIFT_JSON_TYPES]
        if complex_columns:
            # the Thrift server sends an array, map or struct as its JSON text (e.g. percentile()'s list)
            rows = [
                tuple(json.loads(v) if i in complex_columns and isinstance(v, str) else v for i, v in enumerate(row))
                for row in rows
            ]
        return pd.DataFrame.from_records(rows, columns=columns)

    def execute(self, sql: str) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(sql)


class SqlRelation:
    """A relation on Spark with the part of DuckDB's relational API the statistics use (`filter`, `project`,
    `aggregate`, `query`, `set_alias`, `materialize`, `fetchall`, `fetchnumpy`, `types`): each call composes SQL,
    which Spark runs through the step's connection (`SparkSql`: the session dbt runs in, or a Thrift server). So the
    statistics that the DuckDB build computes in DuckDB are computed by Spark, where the customers are, with
    the same code; `dialect` tells that code where Spark's SQL differs (quantiles, wide integers)."""

    dialect = "spark"

    def __init__(self, sql: SparkSql, text: str, alias: str = "relation") -> None:
        self.sql = sql
        self.text = text
        self.alias = alias
        self._schema: list[tuple[str, str]] | None = None

    def _derived(self, text: str, alias: str | None = None) -> SqlRelation:
        return SqlRelation(self.sql, text, alias or self.alias)

    def set_alias(self, alias: str) -> SqlRelation:
        return self._derived(self.text, alias)

    def filter(self, condition: str) -> SqlRelation:
        return self._derived(f"select * from ({self.text}) as {self.alias} where {condition}")

    def project(self, expressions: str) -> SqlRelation:
        return self._derived(f"select {expressions} from ({self.text}) as {self.alias}")

    def aggregate(self, expressions: str) -> SqlRelation:
        """One row of aggregate `expressions` over the whole relation (DuckDB's `aggregate` without groups)."""
        return self._derived(f"select {expressions} from ({self.text}) as {self.alias}")

    def distinct(self) -> SqlRelation:
        return self._derived(f"select distinct * from ({self.text}) as {self.alias}")

    def query(self, alias: str, query: str) -> SqlRelation:
        """`query`, in which `alias` names this relation (a CTE; merged with the query's own WITH)."""
        body = query.strip()
        if body[:4].lower() == "with" and not body[4:5].isalnum():
            return self._derived(f"with {alias} as ({self.text}), {body[4:].lstrip()}")
        return self._derived(f"with {alias} as ({self.text}) {body}")

    def materialize(self) -> SqlRelation:
        """Computed once and kept (a cached temporary view of the session), not recomputed by every query."""
        name = f"metanprom_kept_{uuid.uuid4().hex[:12]}"
        self.sql.execute(f"cache table {name} as {self.text}")
        return SqlRelation(self.sql, f"select * from {name}", self.alias)

    def _rows(self) -> pd.DataFrame:
        return self.sql.query(self.text)

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Rows as tuples; a missing number is None, as DuckDB gives it (pandas would give NaN)."""
        frame = self._rows()
        return [
            tuple(None if isinstance(v, float) and math.isnan(v) else v for v in row)
            for row in frame.astype(object).itertuples(index=False, name=None)
        ]

    def fetchnumpy(self) -> dict[str, Any]:
        frame = self._rows()
        return {column: frame[column].to_numpy() for column in frame.columns}

    def df(self) -> pd.DataFrame:
        return self._rows()

    def _described(self) -> list[tuple[str, str]]:
        if self._schema is None:
            described = self.sql.query(f"describe query {self.text}")
            self._schema = list(zip(described["col_name"], described["data_type"], strict=True))
        return self._schema

    @property
    def columns(self) -> list[str]:
        return [name for name, _ in self._described()]

    @property
    def types(self) -> list[Any]:
        import duckdb

        return [duckdb.sqltype(_duckdb_type(kind)) for _, kind in self._described()]


def spark_method() -> str:
    """How dbt and the step reach Spark: profiles.yml's method, $METANPROM_SPARK_METHOD (default `session`)."""
    return os.environ.get("METANPROM_SPARK_METHOD", "session")


def connect() -> SparkSql:
    """The step's way to Spark, by the profile's method (`spark_method`)."""
    method = spark_method()
    if method == "session":
        return SessionSql()
    if method == "thrift":
        return ThriftSql()
    raise SparkError(f"METANPROM_SPARK_METHOD={method!r}: the Python step knows `session` and `thrift`")


def open_sql(dbt_vars: dict[str, object] | None = None) -> SparkSql:
    """The step's way to Spark before anything is built (the quality gate on the raw extracts): with the `session`
    method, dbt opens the session first (macro `open_connection`), so it has the profile's settings (warehouse
    folder, metastore, driver memory), which a session made here first would fix for dbt too."""
    if spark_method() == "session":
        _invoke(["run-operation", "open_connection"], "gate", dbt_vars)
    return connect()


def parse_manifest(run: str = "parse", dbt_vars: dict[str, object] | None = None) -> Any:
    """dbt's manifest of the project on the spark target (`dbt parse`): where each model's relation is."""
    return _invoke(["parse"], run, dbt_vars)


def mart_relations(manifest: Any) -> dict[str, str]:
    """Each model's relation on Spark, by model name, from dbt's manifest."""
    return {
        node.name: node.relation_name
        for node in manifest.nodes.values()
        if node.resource_type == "model" and node.relation_name
    }


def table_columns(sql: SparkSql, relation: str) -> list[tuple[str, str]]:
    """A Spark table's or view's columns and their types, from `describe` (whose lines after the columns, from
    one starting with '#', describe partitions)."""
    described = sql.query(f"describe {relation}")
    columns = []
    for name, kind in zip(described["col_name"], described["data_type"], strict=True):
        if not name or str(name).startswith("#"):
            break
        columns.append((str(name), str(kind)))
    return columns


def spark_md5_order(text: str) -> str:
    """Spark SQL: the first 60 bits of the md5 of the SQL expression `text` as a BIGINT, the order
    `metanprom.sqltext.md5_order` gives on DuckDB (the form of the dbt macro spark__sample_order)."""
    return f"cast(conv(substr(md5({text}), 1, 15), 16, 10) as bigint)"


def spark_string(text: str) -> str:
    """A Spark SQL string literal: backslashes and quotes escaped (Spark reads backslash escapes)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _spark_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "bigint"
    if pd.api.types.is_float_dtype(series):
        return "double"
    values = series.dropna()
    if len(values) and all(isinstance(v, bool) for v in values):
        return "boolean"
    if len(values) and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "bigint"
    if len(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "double"
    return "string"


def _literal(value: Any, spark_type: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return f"cast(null as {spark_type})"
    if spark_type == "boolean":
        return "true" if bool(value) else "false"
    if spark_type == "bigint":
        return f"cast({int(value)} as bigint)"
    if spark_type == "double":
        # Java's Double.parseDouble of Python's shortest repr gives back the same double; inf and nan by name
        text = repr(float(value)).replace("inf", "Infinity")
        return f"cast('{text}' as double)"
    return spark_string(str(value))


def write_table(sql: SparkSql, relation: str, frame: pd.DataFrame) -> None:
    """`frame` as a new Parquet table `relation` (replacing one of that name): columns typed from the frame's
    dtypes (boolean, bigint, double, string), values as literals in inserts of INSERT_BATCH rows."""
    types = {column: _spark_type(frame[column]) for column in frame.columns}
    sql.execute(f"drop table if exists {relation}")
    columns = ", ".join(f"`{column}` {spark_type}" for column, spark_type in types.items())
    sql.execute(f"create table {relation} ({columns}) using parquet")
    rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
    batch: list[str] = []
    for row in rows:
        batch.append("(" + ", ".join(_literal(v, t) for v, t in zip(row, types.values(), strict=True)) + ")")
        if len(batch) == INSERT_BATCH:
            sql.execute(f"insert into {relation} values " + ", ".join(batch))
            batch = []
    if batch:
        sql.execute(f"insert into {relation} values " + ", ".join(batch))


@dataclass
class SparkBuild:
    """What a build on Spark did: dbt's node statuses, the Python steps run, those left out (no step yet)."""

    run: str
    statuses: dict[str, str] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    #: dbt's manifest of the build (the models' relations and descriptions)
    manifest: Any = None


@functools.cache
def say_pyspark_pandas_warning_once() -> None:
    """PySpark warns that it does not fully support pandas >= 3 at every conversion between them: about 200 times
    in one `metanprom spark-build` (dbt and pandas change the warning filters now and then, which makes Python
    forget which warnings it has shown). Said once per process instead, on standard error, with the versions and
    what checks the marts Spark builds; the warning itself is left out for the rest of the process. Only where
    this process runs PySpark (the `session` method; with `thrift` the step reaches Spark through PyHive)."""
    if spark_method() != "session":
        return
    warnings.filterwarnings("ignore", message=PYSPARK_PANDAS_WARNING, category=FutureWarning)
    if int(pd.__version__.split(".")[0]) >= 3 and importlib.util.find_spec("pyspark") is not None:
        from pyspark import __version__ as pyspark_version

        print(
            f"note: PySpark {pyspark_version} warns that it does not yet fully support pandas >= 3 (pandas "
            f"{pd.__version__} here), shown once: test_spark checks every mart Spark builds against DuckDB's",
            file=sys.stderr,
        )


def _invoke(args: list[str], run: str, dbt_vars: dict[str, object] | None = None) -> Any:
    from dbt.cli.main import dbtRunner

    say_pyspark_pandas_warning_once()

    command = [
        *args, "--target", TARGET, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
        "--vars", json.dumps({**(dbt_vars or {}), "python_step_run": run}), "--quiet",
    ]  # fmt: skip
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    outcome = dbtRunner().invoke(command)
    if not outcome.success:
        results = getattr(outcome.result, "results", None) or []
        failed = [
            f"  {r.node.unique_id}: {r.status}: {r.message}" for r in results if str(r.status) in ("error", "fail")
        ]
        if outcome.exception is not None:
            failed.append(f"  {type(outcome.exception).__name__}: {outcome.exception}")
        raise SparkError(f"dbt {args[0]} --target {TARGET} failed:\n" + "\n".join(failed))
    return outcome.result


def run_step(
    sql: SparkSql, step: Any, schema: str, relations: dict[str, str], config: dict[str, Any], target: str
) -> None:
    """One Python model computed by its step (`metanprom.statistics.steps.Step`) from its inputs on Spark
    (`relations`: input name -> relation), its rows written to the table `target`. A step that declares
    `relations` reads its inputs where they are (its statistics run as Spark SQL on them, in `schema`, where its
    queries name the marts' tables as the model does); the others read theirs into pandas."""
    if step.relations:
        sql.execute(f"use {schema}")
        inputs = {name: SqlRelation(sql, f"select * from {relations[name]}", name) for name in step.inputs}
    else:
        inputs = {name: sql.query(f"select * from {relations[name]}") for name in step.inputs}
    write_table(sql, target, step.compute(inputs, config))


def build_on_spark(
    selection: Iterable[str] = (),
    steps: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
    dbt_vars: dict[str, object] | None = None,
) -> SparkBuild:
    """`dbt build --target spark` of the project, the Python models computed by their Python step (which the
    `python_step` materialization submits through the dbt plugin dbt_metanprom); `selection`: more dbt arguments
    (e.g. ["--exclude", "resource_type:unit_test"]).

    A Python model without a step (`metanprom.statistics.steps.STEPS`) is left out with everything downstream
    of it, and named in the result's `left_out`.
    """
    from metanprom.stack import load_statistics

    load_statistics()
    from metanprom.statistics.steps import STEPS

    steps = STEPS if steps is None else steps
    build = SparkBuild(run=uuid.uuid4().hex[:12])
    build.manifest = parse_manifest(build.run, dbt_vars)
    python_models = sorted(
        node.name
        for node in build.manifest.nodes.values()
        if node.resource_type == "model" and node.language == "python"
    )
    build.left_out = [name for name in python_models if name not in steps]
    excluded = [f"{name}+" for name in build.left_out]
    log("dbt build --target spark (the Python models by their Python step) ...")
    result = _invoke(["build", *(["--exclude", *excluded] if excluded else []), *selection], build.run, dbt_vars)
    for r in getattr(result, "results", None) or []:
        build.statuses[r.node.unique_id] = str(r.status)
        if r.node.resource_type == "model" and r.node.language == "python" and str(r.status) == "success":
            build.steps.append(r.node.name)
    build.steps.sort()
    if build.left_out:
        log("left out on Spark (no Python step yet, #13): " + ", ".join(build.left_out) + ", and what they feed")
    return build


#: Spark SQL's column types as DuckDB's: a Spark relation's types for the statistics, and the copy of the marts
#: (anything else is kept as text).
_COPY_TYPES = {
    "boolean": "boolean", "tinyint": "tinyint", "smallint": "smallint", "int": "integer", "bigint": "bigint",
    "float": "float", "double": "double", "string": "varchar", "date": "date", "timestamp": "timestamp",
}  # fmt: skip


def _duckdb_type(spark_type: str) -> str:
    if spark_type.startswith("decimal"):
        return spark_type
    return _COPY_TYPES.get(spark_type, "varchar")


def copy_marts(build: SparkBuild, marts: Iterable[str], database: os.PathLike[str] | str) -> list[str]:
    """The public marts a Spark build made, copied into a new DuckDB file `database` (schema main), each
    column of the type Spark gave it and with the model's descriptions as comments (as dbt's persist_docs
    writes them on DuckDB): what the quality gate on the marts, the exports and the report read. Returns the
    marts copied. The file must not exist yet."""
    import duckdb

    from metanprom.sqltext import sql_identifier, sql_string

    models = {node.name: node for node in build.manifest.nodes.values() if node.resource_type == "model"}
    sql = connect()
    copied = []
    with duckdb.connect(str(database)) as con:
        for mart in marts:
            node = models[mart]
            columns = [(name, _duckdb_type(kind)) for name, kind in table_columns(sql, node.relation_name)]
            con.register("spark_rows", sql.query(f"select * from {node.relation_name}"))
            table = f"main.{sql_identifier(mart)}"
            typed = ", ".join(f"cast({sql_identifier(n)} as {t}) as {sql_identifier(n)}" for n, t in columns)
            con.execute(f"create table {table} as select {typed} from spark_rows")
            con.unregister("spark_rows")
            if node.description:
                con.execute(f"comment on table {table} is {sql_string(node.description)}")
            for name, column in node.columns.items():
                if column.description and name in {n for n, _ in columns}:
                    con.execute(f"comment on column {table}.{sql_identifier(name)} is {sql_string(column.description)}")
            copied.append(mart)
    return copied
