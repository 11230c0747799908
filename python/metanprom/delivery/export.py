"""Export every public mart for people who never open DuckDB: Tableau .hyper, Parquet and CSV.

Layout under the output directory (default output/exports):

    hyper/<mart>.hyper        table "Extract"."<mart>" (Tableau's convention)
    parquet/<mart>.parquet
    duckdb/metanprom_marts.duckdb
                              every mart as a table, in a storage format DuckDB's 1.x
                              drivers read (Tableau's JDBC route; see DUCKDB_STORAGE_ENV);
                              a mart the warehouse holds as a view of other exported
                              marts (customer_segments) is that view there too
    csv/<mart>.csv            UTF-8 with a byte-order mark, `;`-separated, decimal commas:
                              what Excel in a Russian locale opens directly, Cyrillic intact;
                              only marts that fit on one Excel sheet (see CSV_FORMATS)
    data_dictionary.csv/.md   every exported column with its description (from dbt's docs),
                              its CSV format, and the marts left out of CSV

Row order: every CSV and the Parquet file of a mart that is not customer-level
keep the mart's order; a customer-level mart's Parquet file (one row per
customer, no order of its own) and the DuckDB file's tables (Tableau reads by
query) are written on every thread, in no particular order.

Types survive in Hyper, Parquet and DuckDB: booleans stay booleans, counts
BIGINT, money and rates doubles (rates as fractions), bands text with their
`_band_order` sort key. DuckDB writes the Parquet files; Hyper loads each
with its own COPY from Parquet (`external()`), the fast path, never row by row. The DuckDB file and Hyper
load side by side when every Parquet file is one row group (`_one_row_group_each`), else one after the other.
Files and folders are created with the user's umask, like any file they write.

Formats: every one by default; `formats` (`metanprom export --formats`) writes only those asked for,
and their folders alone (at 10 million customers the DuckDB file alone takes about 40 % of the export).
The Parquet files are what the DuckDB file and Hyper load, so they are written whenever either is asked
for, and left out of the result unless Parquet is asked for too; but when the DuckDB file is the only one of
the three asked for, a mart it holds as a view gets a Parquet file only if that view does not bind there
(`_Deferred`: `--formats duckdb` at 10 million customers, 24 s instead of 28 s).

Writes are atomic: everything is written into a new directory beside the
old one, which is swapped in only when every file is complete, so a failed
or interrupted export leaves the previous files exactly as they were. The
new directory replaces the old one whole: a format not asked for this time
is gone afterwards, never left over from an older warehouse.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from metanprom.settings import duckdb_memory_limit, limit_duckdb_memory, output_dir
from metanprom.sqltext import sql_identifier, sql_string

PUBLIC_MARTS = (
    "dashboard_customers", "customers", "customers_quarantined", "extract_summary", "analysis_bands", "churn_portrait",
    "product_portraits", "churn_by_feature", "missing_balance_profile", "feature_correlations",
    "customer_segments", "segment_summary", "segment_overlap", "segment_comparison", "segment_cut_points",
    "segment_discovery", "cluster_selection", "customer_clusters", "cluster_profiles", "hypothesis_results",
    "data_quality_summary",
)  # fmt: skip
#: Marts with one row per customer, whose ids --pseudonymise replaces.
CUSTOMER_LEVEL = (
    "customers", "customers_quarantined", "customer_segments", "customer_clusters",
)  # fmt: skip
#: Marts whose rows have no order of their own, so their Parquet file is written on every thread: one row per
#: customer, or dashboard_customers, an aggregate joined to its memberships (its model orders nothing; 4.8 million
#: rows at 10 million customers: 2.6 s -> 1.9 s).
UNORDERED = (*CUSTOMER_LEVEL, "dashboard_customers")
#: Columns that serve the project's own steps and mean nothing to an analyst: left out of every export (and of its
#: data dictionary). sample_order orders the fixed samples; Tableau would take it for a measure and sum it.
INTERNAL_COLUMNS = ("sample_order",)
PSEUDONYM_KEY_ENV = "METANPROM_PSEUDONYM_KEY"
#: The storage version of the DuckDB file for Tableau (DuckDB's ATTACH ... (STORAGE_VERSION ...)).
DUCKDB_STORAGE_ENV = "METANPROM_TABLEAU_DUCKDB_STORAGE"
#: The oldest storage version that holds the marts: DuckDB 1.0 and every later 1.x driver read it.
DEFAULT_DUCKDB_STORAGE = "v1.0.0"
DUCKDB_FILE = "metanprom_marts.duckdb"
#: Excel's sheet holds 1,048,576 rows, the header included: larger marts get no CSV.
EXCEL_MAX_DATA_ROWS = 1_048_575
#: Every export format, each written to the folder of its name (`export(formats=...)`).
EXPORT_FORMATS = ("hyper", "duckdb", "parquet", "csv")


class ExportError(RuntimeError):
    """The export could not be completed; the previous exports are intact."""


def export_formats(formats: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    """The formats asked for (a comma-separated string such as `hyper,csv`, or a sequence; None: every one),
    in EXPORT_FORMATS' order. An unknown or empty choice is an ExportError that names what is accepted."""
    if formats is None:
        return EXPORT_FORMATS
    asked = [f.strip().lower() for f in (formats.split(",") if isinstance(formats, str) else formats)]
    asked = [f for f in asked if f]
    unknown = [f for f in asked if f not in EXPORT_FORMATS]
    if unknown or not asked:
        shown = ", ".join(repr(f) for f in unknown) if unknown else "no format"
        expected = ", ".join(EXPORT_FORMATS)
        raise ExportError(f"export formats: {shown}; expected one or more of {expected}, comma-separated")
    return tuple(f for f in EXPORT_FORMATS if f in asked)


def _select(con: duckdb.DuckDBPyConnection, mart: str, pseudonym_key: str | None) -> str:
    columns = [r[0] for r in con.execute(f"describe main.{mart}").fetchall() if r[0] not in INTERNAL_COLUMNS]
    if pseudonym_key is None or mart not in CUSTOMER_LEVEL:
        return f"select {', '.join(columns)} from main.{mart}"
    key = sql_string(pseudonym_key + "|")
    parts = []
    for column in columns:
        if column in ("customer_id", "customer_key"):
            # a keyed hash: the same customer gets the same pseudonym in every mart, and it cannot be reversed
            parts.append(f"left(sha256({key} || {column}), 16) as {column}")
        elif column == "source_row_number":
            continue
        else:
            parts.append(column)
    return f"select {', '.join(parts)} from main.{mart}"


#: UTF-8's byte-order mark, which tells Excel the file is UTF-8 (Cyrillic intact).
BOM = "\ufeff"


#: How each kind of column is written to CSV (the data dictionary repeats it per column).
CSV_FORMATS = {
    "boolean": "1 = yes, 0 = no",
    "integer": "whole number",
    "money": "roubles, 2 decimals",
    "p_value": "plain decimal, 6 decimals (0,000000 means below 0,0000005); exact value in <column>_neg_log10",
    "neg_log10": "-log10 of the p-value beside it, 2 decimals (2 = 0,01; 10 = 0,0000000001)",
    "number": "6 significant digits, no exponent",
    "text": "text",
}
_MONEY = ("balance", "salary")


def csv_format(name: str, kind: str) -> str:
    """The CSV_FORMATS key of a column, from its name and DuckDB type."""
    if kind == "BOOLEAN":
        return "boolean"
    if kind in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "HUGEINT"):
        return "integer"
    if kind in ("DOUBLE", "FLOAT") or kind.startswith("DECIMAL"):
        if name.startswith("p_value") or name.startswith("normality_p"):
            return "p_value"
        if any(part in name for part in _MONEY) and "share" not in name and "lift" not in name:
            return "money"
        return "number"
    return "text"


def _csv_select(con: duckdb.DuckDBPyConnection, query: str) -> str:
    """The query as the CSV shows it: booleans 1/0, money to 2 decimals, other numbers to 6 significant
    digits, p-values as plain decimals with -log10 p beside them, decimal commas. The first column's
    name carries the byte-order mark, so DuckDB writes the mark as the file's first bytes (no second
    pass over a file of gigabytes to prepend it)."""
    described = con.execute(f"describe ({query})").fetchall()
    parts = []
    for name, kind, *_ in described:
        fmt = csv_format(name, kind)
        quoted = f'"{name}"'
        if fmt == "boolean":
            parts.append((name, f"cast({quoted} as integer)"))
        elif fmt == "money":
            parts.append((name, _decimal_comma(f"printf('%.2f', {quoted})", quoted)))
        elif fmt == "number":
            digits = f"greatest(0, least(20, 5 - cast(floor(log10(abs({quoted}))) as integer)))"
            significant = f"case when {quoted} = 0 then '0' else format('{{:.{{}}f}}', {quoted}, {digits}) end"
            parts.append((name, _decimal_comma(significant, quoted)))
        elif fmt == "p_value":
            parts.append((name, _decimal_comma(f"printf('%.6f', {quoted})", quoted)))
            neg_log10 = f"case when {quoted} > 0 then printf('%.2f', -log10({quoted})) end"
            parts.append((f"{name}_neg_log10", _decimal_comma(neg_log10, quoted)))
        else:
            parts.append((name, quoted))
    selected = []
    for index, (name, expression) in enumerate(parts):
        alias = f'"{BOM}{name}"' if index == 0 else f'"{name}"'
        selected.append(f"{expression} as {alias}")
    return f"select {', '.join(selected)} from ({query})"


def _decimal_comma(text_expression: str, value: str) -> str:
    """A number formatted as text with a decimal comma (never an exponent); null and NaN stay empty."""
    return f"case when {value} is null or isnan({value}) then null else replace({text_expression}, '.', ',') end"


def _columns_of(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    """The names and types of the columns of `relation` (a name, or a query)."""
    return con.execute(f"select column_name, column_type from (describe {relation})").fetchall()


def _write_parquet(con: duckdb.DuckDBPyConnection, mart: str, query: str, parquet: Path) -> None:
    """The exported rows of `mart` (its `query`) as a Parquet file."""
    # a mart whose rows have no order of their own (UNORDERED) is written on every thread
    # (customer_segments at 10 million customers: 13 s -> 7 s alone)
    con.execute(f"set preserve_insertion_order = {mart not in UNORDERED}")
    con.execute(f"copy ({query}) to {sql_string(parquet)} (format parquet)")
    con.execute("set preserve_insertion_order = true")


def _parquet_writer(warehouse: Path, mart: str, query: str, parquet: Path) -> Callable[[], Path]:
    """Writes `mart`'s Parquet file from the warehouse (opened read-only again) when called; returns its path."""

    def write() -> Path:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            limit_duckdb_memory(con)
            _write_parquet(con, mart, query, parquet)
        finally:
            con.close()
        return parquet

    return write


@dataclass(frozen=True)
class _Deferred:
    """A mart the DuckDB file alone exports and the warehouse holds as a view: its Parquet file is written only
    if its view does not bind in the file (`write`). `columns`: the exported columns and types (DuckDB's
    `describe` of its query), which the view must give."""

    columns: list[tuple[str, str]]
    write: Callable[[], Path]


def _one_row_group_each(parquet_files: dict[str, Path]) -> bool:
    """Whether every Parquet file holds at most one row group (DuckDB writes 122,880 rows to one)."""
    if not parquet_files:
        return True
    con = duckdb.connect()
    try:
        paths = [str(path) for path in parquet_files.values()]
        (most,) = con.execute("select max(num_row_groups) from parquet_file_metadata(?)", [paths]).fetchone()
    finally:
        con.close()
    return most <= 1


def _hyper_memory_limit() -> dict[str, str]:
    """Hyper's `memory_limit` parameter for the same budget (2GB -> 2g); none for a share like 50%."""
    limit = (duckdb_memory_limit() or "").strip().lower().replace(" ", "").removesuffix("ib").removesuffix("b")
    return {"memory_limit": limit} if limit[:-1].replace(".", "").isdigit() and limit[-1:] in "kmgt" else {}


def _write_hyper(parquet_files: dict[str, Path], hyper_dir: Path, log_dir: Path) -> None:
    from tableauhyperapi import Connection, CreateMode, HyperProcess, Telemetry

    log_dir.mkdir(parents=True, exist_ok=True)
    with HyperProcess(
        telemetry=Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU,
        parameters={"log_dir": str(log_dir), **_hyper_memory_limit()},
    ) as hyper:
        for mart, parquet in parquet_files.items():
            target = hyper_dir / f"{mart}.hyper"
            with Connection(hyper.endpoint, str(target), CreateMode.CREATE_AND_REPLACE) as conn:
                conn.execute_command('create schema if not exists "Extract"')
                conn.execute_command(
                    f'create table "Extract"."{mart}" as (select * from external({sql_string(parquet)}))'
                )


def data_dictionary(
    con: duckdb.DuckDBPyConnection, marts: list[str], csv_rows: dict[str, object]
) -> list[dict[str, str]]:
    """Every documented column of the exported marts with its description and CSV format.

    The descriptions are read from the warehouse being exported: dbt writes every mart's documentation
    into it as comments (`persist_docs` in dbt_project.yml), so they match the build the marts come from.
    """
    tables = dict(
        con.execute(
            "select table_name, comment from duckdb_tables() where database_name = current_database() "
            "and schema_name = current_schema() union all "
            "select view_name, comment from duckdb_views() where database_name = current_database() "
            "and schema_name = current_schema()"
        ).fetchall()
    )
    columns = con.execute(
        "select table_name, column_name, comment from duckdb_columns() where database_name = current_database() "
        "and schema_name = current_schema() and comment is not null order by table_name, column_index"
    ).fetchall()
    rows = []
    for mart in marts:
        formats = csv_rows.get(mart)
        for table, name, comment in columns:
            if table != mart or name in INTERNAL_COLUMNS:
                continue
            rows.append(
                {
                    "mart": mart,
                    "mart_description": " ".join((tables.get(mart) or "").split()),
                    "column": name,
                    "description": " ".join(comment.split()),
                    "csv_format": _dictionary_format(formats, name),
                }
            )
    return rows


def _dictionary_format(formats: object, column: str) -> str:
    """What the dictionary says of a column's CSV form."""
    if not isinstance(formats, dict):
        return "no CSV (too many rows)"
    if column not in formats:
        return "left out of this export (pseudonymised)"
    return CSV_FORMATS[formats[column]]


def _umask() -> int:
    """The process's umask, read without changing it (os.umask sets it, racing other threads' writes)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _honour_umask(root: Path) -> None:
    """Give every folder and file under `root` the mode the user's umask gives any file they write
    (mkdtemp makes 0700 folders, Hyper 0640 files; Tableau Server or a colleague could not read them)."""
    mask = _umask()
    for path in [root, *root.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~mask)


def _write_duckdb(
    parquet_files: dict[str, Path],
    target: Path,
    storage: str,
    views: dict[str, str] | None = None,
    deferred: dict[str, _Deferred] | None = None,
) -> list[str]:
    """Every mart as a table of a DuckDB file in `storage` format (what DuckDB's 1.x drivers read), loaded
    from the Parquet files just written (the exported rows, pseudonymised where asked, types kept).

    A mart the warehouse holds as a view (`views`: its name and `create view` statement) becomes the same view
    here, over the file's own tables, when it binds to them and gives the Parquet file's columns and types:
    customer_segments, 30 million rows at 10 million customers, costs no storage and about 10 s less to write,
    and reads as fast as the warehouse's view (Tableau lists views beside tables). Its rows are the Parquet
    file's: the view reads the exported `customers`, pseudonymised with the same keyed hash where asked. A view
    that does not bind here (what it reads is not exported, or not under that shape) is loaded as a table.
    `deferred`: such views with no Parquet file yet (the DuckDB file is the only format asked for), each checked
    against its query's columns and types, and written to Parquet and loaded only if it does not bind.
    Returns the marts written as views."""
    if not storage.startswith("v") or not all(part.isdigit() for part in storage[1:].split(".")):
        raise ExportError(f"{DUCKDB_STORAGE_ENV}={storage!r}: expected a DuckDB release such as v1.0.0")
    deferred = deferred or {}
    views = {mart: sql for mart, sql in (views or {}).items() if mart in parquet_files or mart in deferred}
    as_views: list[str] = []

    def _columns(con: duckdb.DuckDBPyConnection, mart: str) -> list[tuple[str, str]]:
        """The columns and types the mart's view must give: its Parquet file's, or a deferred mart's query's."""
        if mart in deferred:
            return deferred[mart].columns
        return _columns_of(con, f"select * from read_parquet({sql_string(parquet_files[mart])})")

    con = duckdb.connect()
    try:
        limit_duckdb_memory(con)
        # Tableau reads the tables by query, never by their rows' order: without keeping the Parquet files'
        # order, DuckDB loads a large table on every thread (customers at 10 million rows: 17 s instead of 25 s)
        con.execute("set preserve_insertion_order = false")
        try:
            con.execute(f"attach {sql_string(target)} as tableau_copy (storage_version {sql_string(storage)})")
        except duckdb.Error as error:
            raise ExportError(
                f"{DUCKDB_STORAGE_ENV}={storage!r}: DuckDB cannot write that version ({error})"
            ) from error
        load = "create table tableau_copy.main.{} as select * from read_parquet(?)"
        for mart, parquet in parquet_files.items():
            if mart not in views:
                con.execute(load.format(mart), [str(parquet)])
        # a view may read another mart, itself a view in the warehouse (customer_segments reads customers, a
        # view of a table not exported): each round creates the views whose relations are there; when none
        # binds, the first left in the export's order is loaded as a table, and the others are tried again
        pending = list(views)
        while pending:
            bound = [mart for mart in pending if _create_view(con, mart, views[mart], _columns(con, mart))]
            as_views += bound
            pending = [mart for mart in pending if mart not in bound]
            if pending and not bound:
                first = pending[0]
                parquet = parquet_files[first] if first in parquet_files else deferred[first].write()
                con.execute(load.format(first), [str(parquet)])
                pending = pending[1:]
        con.execute("detach tableau_copy")
    finally:
        con.close()
    return as_views


def _create_view(con: duckdb.DuckDBPyConnection, mart: str, sql: str, columns: list[tuple[str, str]]) -> bool:
    """Whether the warehouse's view `mart` (its `create view` statement, which names its relations without a
    database) was created in the DuckDB file with exactly `columns` (names and types: the mart's Parquet
    file's, or for a `_Deferred` mart its query's); if it does not bind there, or gives other columns, nothing is
    left of it."""
    default = con.execute("select current_database()").fetchone()[0]
    con.execute("use tableau_copy")
    try:
        con.execute(sql)
    except duckdb.Error:
        return False
    finally:
        con.execute(f"use {sql_identifier(default)}")
    if _columns_of(con, f"tableau_copy.main.{mart}") != columns:
        con.execute(f"drop view tableau_copy.main.{mart}")
        return False
    return True


def _write_dictionary(
    staging: Path,
    marts: tuple[str, ...],
    rows: list[dict[str, str]],
    csv_rows: dict[str, object],
    counts: dict[str, int],
    formats: tuple[str, ...] = EXPORT_FORMATS,
    duckdb_views: tuple[str, ...] | list[str] = (),
) -> None:
    with open(staging / "data_dictionary.csv", "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["mart", "mart_description", "column", "description", "csv_format"])
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        "# Data dictionary",
        "",
        "Every exported mart and column, from the dbt docs. Hyper, Parquet and the DuckDB file keep each",
        "column's type; the CSV files (for Excel: UTF-8 with a byte-order mark, `;` between fields, decimal",
        "commas) write each column as its `CSV format` says.",
        "",
        f"Formats in this export: {', '.join(formats)}.",
        "",
        "| CSV format | meaning |",
        "|---|---|",
        *(f"| {key} | {text} |" for key, text in CSV_FORMATS.items()),
        "",
    ]
    for mart in marts:
        mart_rows = [r for r in rows if r["mart"] == mart]
        lines += [f"## {mart}", "", mart_rows[0]["mart_description"] if mart_rows else "", ""]
        if "csv" in formats and not isinstance(csv_rows.get(mart), dict):
            lines += [
                f"**No CSV**: {counts[mart]:,} rows do not fit on one Excel sheet "
                f"({EXCEL_MAX_DATA_ROWS + 1:,} rows with the header); use the Parquet, Hyper or DuckDB file.",
                "",
            ]
        if mart in duckdb_views:
            lines += [
                f"**In the DuckDB file**: a view, as in the warehouse, of the file's other tables: the same rows as "
                f"`parquet/{mart}.parquet`, computed when read.",
                "",
            ]
        lines += ["| column | description | CSV format |", "|---|---|---|"]
        lines += [f"| {r['column']} | {r['description'].replace('|', '/')} | {r['csv_format']} |" for r in mart_rows]
        lines.append("")
    (staging / "data_dictionary.md").write_text("\n".join(lines), encoding="utf-8")


def export(
    warehouse: Path,
    out: Path | None = None,
    pseudonymise: bool = False,
    marts: tuple[str, ...] = PUBLIC_MARTS,
    log: Callable[[str], None] = print,
    duckdb_storage: str | None = None,
    formats: str | tuple[str, ...] | list[str] | None = None,
    source: Path | None = None,
    checkpoint: Callable[[], None] | None = None,
    before_swap: Callable[[], None] | None = None,
) -> dict[str, object]:
    """Write every mart to hyper/, parquet/, duckdb/ and csv/ under `out` (or to the folders of `formats` alone:
    `export_formats`), swapping the whole directory in at the end. `duckdb_storage`: the DuckDB file's storage
    version (default $METANPROM_TABLEAU_DUCKDB_STORAGE, else DEFAULT_DUCKDB_STORAGE).

    For a run that exports a new warehouse before it is swapped in (`pipeline.build(beside_mart_gate=...)`):
    `source`, the warehouse export.json names (default `warehouse`); `checkpoint`, called after each mart and
    before the loads, and `before_swap`, called before the swap, each raise to abandon the export (nothing is
    swapped in, the new files go)."""
    out = Path(out) if out else output_dir() / "exports"
    chosen = export_formats(formats)
    storage = duckdb_storage or os.environ.get(DUCKDB_STORAGE_ENV) or DEFAULT_DUCKDB_STORAGE
    key = None
    if pseudonymise:
        key = os.environ.get(PSEUDONYM_KEY_ENV)
        if not key:
            raise ExportError(
                f"--pseudonymise needs a secret key in the environment variable {PSEUDONYM_KEY_ENV} "
                "(the same key gives the same pseudonyms every run)"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    started = time.perf_counter()
    counts: dict[str, int] = {}
    csv_rows: dict[str, object] = {}
    duckdb_views: list[str] = []
    try:
        for sub in chosen:
            (staging / sub).mkdir()
        # the Parquet files the DuckDB file and Hyper load: in parquet/ when asked for, else in a scratch folder
        loaded = {"duckdb", "hyper"} & set(chosen)
        # the DuckDB file needs no Parquet file of a mart it holds as a view (unless Parquet or Hyper is asked for)
        only_duckdb = loaded == {"duckdb"} and "parquet" not in chosen
        parquet_dir = staging / "parquet" if "parquet" in chosen else staging / ".parquet-for-loading"
        if loaded and "parquet" not in chosen:
            parquet_dir.mkdir()
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            limit_duckdb_memory(con)
            views = dict(
                con.execute(
                    "select view_name, sql from duckdb_views() where database_name = current_database() "
                    "and schema_name = current_schema() and not internal"
                ).fetchall()
            )
            parquet_files: dict[str, Path] = {}
            deferred: dict[str, _Deferred] = {}
            for mart in marts:
                query = _select(con, mart, key)
                parquet = parquet_dir / f"{mart}.parquet"
                if only_duckdb and mart in views:
                    # the DuckDB file alone, and a view there if it binds: no Parquet file unless it does not
                    # (customer_segments at 10 million customers: 30 million rows, about 5 s)
                    deferred[mart] = _Deferred(
                        _columns_of(con, query), _parquet_writer(warehouse, mart, query, parquet)
                    )
                    counts[mart] = con.execute(f"select count(*) from main.{mart}").fetchall()[0][0]
                elif loaded or "parquet" in chosen:
                    _write_parquet(con, mart, query, parquet)
                    counts[mart] = con.execute("select count(*) from read_parquet(?)", [str(parquet)]).fetchall()[0][0]
                    parquet_files[mart] = parquet
                else:
                    counts[mart] = con.execute(f"select count(*) from main.{mart}").fetchall()[0][0]
                if "csv" in chosen and counts[mart] <= EXCEL_MAX_DATA_ROWS:
                    csv_path = staging / "csv" / f"{mart}.csv"
                    con.execute(
                        f"copy ({_csv_select(con, query)}) to {sql_string(csv_path)} "
                        "(format csv, header true, delimiter ';')"
                    )
                    described = con.execute(f"describe ({query})").fetchall()
                    csv_rows[mart] = {name: csv_format(name, kind) for name, kind, *_ in described}
                if checkpoint:
                    checkpoint()
            dictionary = data_dictionary(con, list(marts), csv_rows)
        finally:
            con.close()
        log(f"  {' and '.join(f for f in ('parquet', 'csv') if f in chosen) or 'row counts'} done ({len(marts)} marts)")
        if checkpoint:
            checkpoint()

        def write_duckdb() -> list[str]:
            # written in a folder of a plain name, then moved: DuckDB misplaces the write-ahead log of a database
            # whose path has a '?'
            scratch = Path(tempfile.mkdtemp(prefix="metanprom-duckdb-"))
            try:
                written = _write_duckdb(parquet_files, scratch / DUCKDB_FILE, storage, views, deferred)
                shutil.move(scratch / DUCKDB_FILE, staging / "duckdb" / DUCKDB_FILE)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            return written

        def write_hyper() -> None:
            _write_hyper(parquet_files, staging / "hyper", staging / ".hyper-logs")
            shutil.rmtree(staging / ".hyper-logs", ignore_errors=True)

        if "duckdb" in chosen and "hyper" in chosen and _one_row_group_each(parquet_files):
            log(f"  writing the DuckDB file ({storage}) and loading Tableau .hyper files side by side ...")
            # each engine reads a Parquet file's row groups on threads of its own: with one row group a file, each
            # loads on one core, so the two side by side use both (at 10,000 customers 1.9 s -> 1.4 s); with more,
            # each already uses both, and side by side they only hold more memory at once (at 10 million customers
            # 48 s -> 50 s, 1.4 -> 2.3 GiB)
            with ThreadPoolExecutor(max_workers=1) as pool:
                hyper_job = pool.submit(write_hyper)
                duckdb_views = write_duckdb()  # if it raises, leaving the pool waits for Hyper first
                hyper_job.result()
        else:
            if "duckdb" in chosen:
                log(f"  writing the DuckDB file ({storage}) ...")
                duckdb_views = write_duckdb()
            if "hyper" in chosen:
                log("  loading Tableau .hyper files ...")
                write_hyper()
        if "parquet" not in chosen:
            shutil.rmtree(parquet_dir, ignore_errors=True)
        _write_dictionary(staging, marts, dictionary, csv_rows, counts, chosen, duckdb_views)
        (staging / "export.json").write_text(
            json.dumps(
                {
                    "warehouse": str(source or warehouse),
                    "pseudonymised": pseudonymise,
                    "formats": list(chosen),
                    "duckdb_storage_version": storage if "duckdb" in chosen else None,
                    "duckdb_views": duckdb_views,
                    "rows": counts,
                    "csv_left_out": sorted(m for m in marts if m not in csv_rows) if "csv" in chosen else [],
                },
                indent=1,
            ),
            encoding="utf-8",
        )
        _honour_umask(staging)
        if before_swap:
            before_swap()
        # The swap: the old directory is moved aside, the new one takes its name, the old one goes.
        previous = out.with_name(f".{out.name}.old")
        shutil.rmtree(previous, ignore_errors=True)
        if out.exists():
            os.replace(out, previous)
        os.replace(staging, out)
        shutil.rmtree(previous, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {"out": out, "rows": counts, "seconds": time.perf_counter() - started}
