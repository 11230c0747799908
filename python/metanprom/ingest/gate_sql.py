"""Where the quality gates' SQL runs: DuckDB (the default) or Spark (`--target spark`).

The gates (metanprom.ingest.quality) ask the engine that holds the data for a few
things: the extract read as text where it lies, the range checks on every row in
one aggregate, the row count, a keyed sample of at most GE_MAX_ROWS rows for
Great Expectations, and the marts' samples and counts. The two engines differ only
in how they read a CSV file, quote a name, hash a key and keep a file's row order;
each class below says it once. Great Expectations then validates the sample in
pandas on either engine, with the same suites and severities.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from metanprom.ingest.formats import FORMATS
from metanprom.project import number_pattern, space_separators
from metanprom.sqltext import md5_order, sql_identifier, sql_string

#: Columns a Spark read of the extract gets beyond its header, to catch rows with more fields than the header
#: (Spark's CSV reader drops such fields silently; DuckDB pads the header instead).
SPARK_EXTRA_FIELDS = 4
#: The column a Spark read of the extract carries for the file's order (monotonically increasing by partition,
#: and a file's partitions follow its byte order).
SPARK_POSITION = "metanprom_position"


class UnreadableExtractError(ValueError):
    """The engine cannot read the extract as CSV (e.g. a row with more fields than the header)."""


class GateSql(Protocol):
    """What the gates need from an engine."""

    #: the engine's errors that mean the file or a table cannot be read
    errors: tuple[type[BaseException], ...]
    #: the ORDER BY that gives a raw extract's rows in the file's order ("" where a plain scan keeps it)
    file_order: str

    def query(self, sql: str) -> pd.DataFrame: ...

    def rows(self, sql: str) -> list[tuple[Any, ...]]: ...

    def quote(self, name: str) -> str: ...

    def md5_order(self, text: str) -> str: ...

    def trimmed(self, column: str) -> str:
        """SQL: the text of `column` without the spaces forgiven around a value (var space_separators)."""
        ...

    def number(self, column: str) -> str:
        """SQL: the value of `column` as a finite double, or null when it is not a number of the project's grammar
        (`parsed_number` of `trimmed`)."""
        ...

    def string(self, value: str) -> str: ...

    def read_raw(self, path: str | Path, fmt_name: str) -> tuple[str, list[str]]: ...

    def marts(self) -> dict[str, str]: ...

    def columns(self, relation: str) -> list[str]: ...

    def exact_columns(self, relation: str) -> list[str]: ...

    def rows_by_row_md5(
        self, relation: str, columns: list[str], hashed: list[str], limit: int, below: int | None = None
    ) -> pd.DataFrame:
        """The first `limit` rows of `relation` by the md5 order of the text of its `hashed` columns, then by every
        column; with `below`, only among the rows whose order is below that cut-off (one pass; the caller checks it
        got enough rows)."""
        ...

    def estimated_rows(self, first_rows: int) -> int | None:
        """About how many rows the raw extract last read has, from its first `first_rows` rows; None where the
        engine cannot tell cheaply (the gate then reads the file twice: `quality._scan_raw`)."""
        ...

    def aggregate_keeping_first(
        self,
        relation: str,
        aggregates: list[str],
        columns: list[str],
        order: str,
        below: int,
        tiebreak: str,
        limit: int,
    ) -> tuple[tuple[Any, ...], int, pd.DataFrame]:
        """In one scan of `relation`: the values of `aggregates`, how many rows have `order` below `below`, and of
        those the first `limit` (their `columns`) by `order`, then by `tiebreak`. Needed only where
        `estimated_rows` gives an estimate."""
        ...

    def close(self) -> None: ...


def parsed_number(trimmed: str, full_match: str) -> str:
    """SQL: the raw text `trimmed` (already trimmed of spaces) as a finite double, or null when it is not a number
    of the project's grammar (var `number_pattern`; `full_match`: the engine's SQL for "`trimmed` matches it
    whole"). Each engine's cast reads more than the grammar ('1_000' and '1e3' on DuckDB, '5d' on Spark): the
    dbt staging of a user's file (macro `parse_number`, the same rule) quarantines such a row as unparsable,
    and the range checks skip its value as they skip any value that does not parse."""
    return finite_number(f"case when {full_match} then {cast_number(trimmed)} end")


def cast_number(trimmed: str) -> str:
    """SQL: the engine's own cast of the text `trimmed` to a double (null where it cannot): every number of the
    project's grammar reads as the same value as in `parsed_number`, and more besides."""
    return f"try_cast({trimmed} as double)"


def finite_number(number: str) -> str:
    """SQL: the double `number`, or null when it is not finite. Both engines' casts read "nan", "inf" and
    "Infinity" (and a number too large for a double) as such a double. It is not a number: the dbt staging (macro
    `number_as`, the same rule) quarantines its row as unparsable, and the range checks skip it as they skip
    any value that does not parse. NaN equals NaN in DuckDB and Spark, so `nullif` finds it."""
    not_finite = ("cast('NaN' as double)", "cast('Infinity' as double)", "cast('-Infinity' as double)")
    for value in not_finite:
        number = f"nullif({number}, {value})"
    return number


def ordered(engine: GateSql, columns: list[str], prefix: str = "") -> str:
    """An ORDER BY list of `columns`, nulls last on every engine (DuckDB's default; Spark's is nulls first)."""
    return ", ".join(f"{prefix}{engine.quote(c)} nulls last" for c in columns)


def _inexact(kind: str) -> bool:
    """Whether a column of this SQL type prints differently on DuckDB and Spark (floating point: `1.2345678E7` on
    Spark, `12345678.0` on DuckDB), so cannot be part of a text hashed to the same order on both."""
    return kind.lower().startswith(("double", "float", "real", "decimal"))


def _long_rows_error(path: str | Path, lines: list[int], header: tuple[str, ...]) -> UnreadableExtractError:
    return UnreadableExtractError(
        f"{path}: line(s) {', '.join(str(n) for n in lines)} have more fields than the header's "
        f"{len(header)}; expected one value per column of: {','.join(header)}"
    )


class DuckDbGate:
    """The gates on DuckDB: the extract read by `read_csv` in place; the marts of a warehouse file (schema main)."""

    file_order = ""

    def __init__(self, database: Path | None = None) -> None:
        import duckdb

        from metanprom.settings import limit_duckdb_memory

        self.errors = (duckdb.Error,)
        self.con = duckdb.connect(str(database), read_only=True) if database else duckdb.connect()
        limit_duckdb_memory(self.con)
        self.con.execute("set enable_progress_bar = false")

    def query(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def quote(self, name: str) -> str:
        return sql_identifier(name)

    def md5_order(self, text: str) -> str:
        return md5_order(text)

    def trimmed(self, column: str) -> str:
        # trim() removes the spaces forgiven (var space_separators: DuckDB's trim() removes exactly those), and keeps
        # DuckDB from pushing the cast into the CSV reader, where it would raise, not try
        return f"trim({self.quote(column)})"

    def number(self, column: str) -> str:
        trimmed = self.trimmed(column)
        return parsed_number(trimmed, f"regexp_full_match({trimmed}, {sql_string(number_pattern())})")

    def string(self, value: str) -> str:
        return sql_string(value)

    def read_raw(self, path: str | Path, fmt_name: str) -> tuple[str, list[str]]:
        """The view `raw` of the extract as text, and its columns. A row longer than the header is refused by
        line."""
        fmt = FORMATS[fmt_name]
        self.raw_path = Path(path)
        self.con.execute(
            f"create or replace view raw as select * from read_csv({sql_string(path)}, header = true, "
            "all_varchar = true, null_padding = true)"
        )
        present = [r[0] for r in self.con.execute("describe raw").fetchall()]
        extra = [c for c in present if c not in fmt.header and c.startswith("column")]
        if extra and len(present) > len(fmt.header):
            condition = " or ".join(f"{self.quote(c)} is not null" for c in extra)
            lines = self.rows(
                f"select line from (select row_number() over () + 1 as line, * from raw) where {condition} limit 5"
            )
            raise _long_rows_error(path, [r[0] for r in lines], fmt.header)
        return "raw", present

    def marts(self) -> dict[str, str]:
        names = self.rows(
            "select table_name from duckdb_tables() where schema_name = 'main' "
            "union all select view_name from duckdb_views() where schema_name = 'main' and not internal"
        )
        return {name: f"main.{self.quote(name)}" for (name,) in names}

    def columns(self, relation: str) -> list[str]:
        return [r[0] for r in self.rows(f"describe {relation}")]

    def exact_columns(self, relation: str) -> list[str]:
        return [r[0] for r in self.rows(f"describe {relation}") if not _inexact(r[1])]

    def rows_by_row_md5(
        self, relation: str, columns: list[str], hashed: list[str], limit: int, below: int | None = None
    ) -> pd.DataFrame:
        every = ordered(self, columns, "m.")
        text = ", ".join(f"coalesce(cast(m.{self.quote(c)} as varchar), '')" for c in hashed)
        order = self.md5_order(f"concat_ws('|', {text})")
        if below is not None:
            return self.query(
                f"select m.* from {relation} as m where {order} < {below} order by {order}, {every} limit {limit}"
            )
        return self.query(
            # each row's md5 computed once; the rows up to the last order kept are then read by row id
            f"with keys as materialized (select m.rowid as row_id, {order} as o from {relation} as m),"
            f" last as (select max(o) as o from (select o from keys order by o limit {limit}))"
            f" select m.* from {relation} as m inner join keys on m.rowid = keys.row_id"
            f" where keys.o <= (select o from last) order by keys.o, {every} limit {limit}"
        )

    def estimated_rows(self, first_rows: int) -> int | None:
        """The file's size over the bytes per line of its header and first `first_rows` lines (a quoted value
        that spans lines makes it a little high); None for a file of no more lines than that."""
        with open(self.raw_path, "rb") as handle:
            header = len(handle.readline())
            lines = [len(line) for _, line in zip(range(first_rows), handle, strict=False)]
        if len(lines) < first_rows or not sum(lines):
            return None
        return round((self.raw_path.stat().st_size - header) / (sum(lines) / len(lines)))

    def aggregate_keeping_first(
        self,
        relation: str,
        aggregates: list[str],
        columns: list[str],
        order: str,
        below: int,
        tiebreak: str,
        limit: int,
    ) -> tuple[tuple[Any, ...], int, pd.DataFrame]:
        # the rows below the cut-off are kept as a list beside the aggregates (one scan), then unnested and ordered
        every = ", ".join(self.quote(c) for c in columns)
        named = ", ".join(f"{aggregate} as metanprom_{i}" for i, aggregate in enumerate(aggregates))
        packed = ", ".join(f"{self.quote(c)} := {self.quote(c)}" for c in columns)
        self.con.execute(
            f"create or replace temp table metanprom_scan as select {named}, list(struct_pack(metanprom_order :="
            f" {order}, {packed})) filter (where {order} < {below}) as metanprom_rows from {relation}"
        )
        try:
            row = self.rows("select * exclude (metanprom_rows), coalesce(len(metanprom_rows), 0) from metanprom_scan")
            first = self.query(
                f"select {every} from (select unnest(metanprom_rows, recursive := true) from metanprom_scan)"
                f" order by metanprom_order, {tiebreak} limit {limit}"
            )
        finally:
            self.con.execute("drop table if exists metanprom_scan")
        return row[0][:-1], int(row[0][-1]), first

    def close(self) -> None:
        self.con.close()


class SparkGate:
    """The gates on Spark, through the connection the Python step uses (metanprom.spark_step: the session dbt
    runs in, or a Thrift server): the extract read by Spark's CSV reader where it lies (a local path, hdfs://,
    s3a://), with the options dbt's Spark build reads it with (`spark__extract_rows`); the marts of a Spark
    build, by their relations."""

    file_order = f" order by {SPARK_POSITION}"

    def __init__(self, sql: Any, marts: dict[str, str] | None = None) -> None:
        self.sql = sql
        self._marts = dict(marts or {})
        self._present: dict[str, str] | None = None
        self.errors = _spark_errors()

    def query(self, sql: str) -> pd.DataFrame:
        return self.sql.query(sql)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.sql.query(sql).itertuples(index=False, name=None))

    def quote(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def md5_order(self, text: str) -> str:
        from metanprom.spark_step import spark_md5_order

        return spark_md5_order(text)

    def trimmed(self, column: str) -> str:
        # Spark's trim() removes only the space: the set DuckDB's trim() removes, as dbt's macro trim_spaces
        return f"trim(both {self.string(space_separators())} from {self.quote(column)})"

    def number(self, column: str) -> str:
        trimmed = self.trimmed(column)
        return parsed_number(trimmed, f"{trimmed} rlike {self.string(f'^(?:{number_pattern()})$')}")

    def string(self, value: str) -> str:
        from metanprom.spark_step import spark_string

        return spark_string(value)

    def read_raw(self, path: str | Path, fmt_name: str) -> tuple[str, list[str]]:
        """The temporary view `metanprom_gate_<format>` of the extract as text, with the file's order in
        `metanprom_position`, and its columns. A row longer than the header is refused by line."""
        fmt = FORMATS[fmt_name]
        location = self.string(str(path))
        options = "inferSchema 'false', mode 'PERMISSIVE', encoding 'UTF-8'"
        header_view = f"metanprom_gate_header_{fmt_name}"
        self.sql.execute(
            f"create or replace temporary view {header_view} using csv options (path {location}, header 'true',"
            f" {options})"
        )
        present = self.columns(header_view)
        # read again with room for more fields than the header: Spark would drop them without a word. The header
        # line is read as a row (with header 'true' Spark warns that the extra columns are not in the header),
        # the first of the file's first partition, position 0, and left out
        extra = [f"metanprom_extra_{i}" for i in range(1, SPARK_EXTRA_FIELDS + 1)]
        schema = ", ".join(f"{self.quote(c)} string" for c in [*present, *extra])
        wide = f"metanprom_gate_wide_{fmt_name}"
        self.sql.execute(
            f"create or replace temporary view {wide} ({schema}) using csv options (path {location}, header 'false',"
            f" {options})"
        )
        numbered = f"metanprom_gate_numbered_{fmt_name}"
        self.sql.execute(
            f"create or replace temporary view {numbered} as select * from"
            f" (select *, monotonically_increasing_id() as {SPARK_POSITION} from {wide}) where {SPARK_POSITION} > 0"
        )
        condition = " or ".join(f"{self.quote(c)} is not null" for c in extra)
        if self.rows(f"select count(*) from {numbered} where {condition}")[0][0]:
            # only on failure: every row numbered in the file's order, in one partition
            lines = self.rows(
                f"select line from (select row_number() over (order by {SPARK_POSITION}) + 1 as line, * "
                f"from {numbered}) where {condition} order by line limit 5"
            )
            raise _long_rows_error(path, [int(r[0]) for r in lines], fmt.header)
        view = f"metanprom_gate_{fmt_name}"
        columns = ", ".join(self.quote(c) for c in [*present, SPARK_POSITION])
        self.sql.execute(f"create or replace temporary view {view} as select {columns} from {numbered}")
        return view, present

    def marts(self) -> dict[str, str]:
        """The models' relations that exist on Spark (a schema's tables and views, as `show tables` lists them)."""
        if self._present is None:
            listed: dict[str, set[str]] = {}
            for relation in self._marts.values():
                schema = relation.rsplit(".", 1)[0]
                if schema not in listed:
                    try:
                        tables = self.sql.query(f"show tables in {schema}")
                    except self.errors:
                        tables = pd.DataFrame({"tableName": []})
                    listed[schema] = {str(name).lower() for name in tables["tableName"]}
            self._present = {
                name: relation
                for name, relation in self._marts.items()
                if relation.rsplit(".", 1)[-1].strip("`").lower() in listed[relation.rsplit(".", 1)[0]]
            }
        return dict(self._present)

    def _described(self, relation: str) -> list[tuple[str, str]]:
        from metanprom.spark_step import table_columns

        return table_columns(self.sql, relation)

    def columns(self, relation: str) -> list[str]:
        return [name for name, _ in self._described(relation)]

    def exact_columns(self, relation: str) -> list[str]:
        return [name for name, kind in self._described(relation) if not _inexact(kind)]

    def rows_by_row_md5(
        self, relation: str, columns: list[str], hashed: list[str], limit: int, below: int | None = None
    ) -> pd.DataFrame:
        text = ", ".join(f"coalesce(cast({self.quote(c)} as string), '')" for c in hashed)
        order = self.md5_order(f"concat_ws('|', {text})")
        keyed = f"(select *, {order} as metanprom_order from {relation})"
        if below is None:
            kept = f"(select max(metanprom_order) from (select metanprom_order from {keyed} order by 1 limit {limit}))"
            within = f"metanprom_order <= {kept}"
        else:
            within = f"metanprom_order < {below}"
        every = ", ".join(self.quote(c) for c in columns)
        return self.query(
            f"select {every} from {keyed} where {within}"
            f" order by metanprom_order, {ordered(self, columns)} limit {limit}"
        )

    def estimated_rows(self, first_rows: int) -> int | None:
        """None: Spark reads a file or a URI in place, whose size is not at hand; the gate reads it twice."""
        return None

    def close(self) -> None:
        pass


def _spark_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = []
    try:
        from pyspark.errors import PySparkException

        errors.append(PySparkException)
    except ImportError:
        pass
    try:
        from py4j.protocol import Py4JJavaError

        errors.append(Py4JJavaError)
    except ImportError:
        pass
    try:
        from pyhive.exc import Error as HiveError

        errors.append(HiveError)
    except ImportError:
        pass
    return tuple(errors) or (RuntimeError,)


def is_uri(path: str | Path) -> bool:
    """Whether `path` is a URI with a scheme (hdfs://, s3a://, file://), which Spark reads and DuckDB's gate does
    not."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", str(path)) is not None
