"""Export every public mart for people who never open DuckDB: Tableau .hyper, Parquet and CSV.

Layout under the output directory (default output/exports):

    hyper/<mart>.hyper        table "Extract"."<mart>" (Tableau's convention)
    parquet/<mart>.parquet
    csv/<mart>.csv            UTF-8 with a byte-order mark, `;`-separated, decimal commas:
                              what Excel in a Russian locale opens directly, Cyrillic intact
    data_dictionary.csv/.md   every exported column with its description (from dbt's docs)

Types survive: booleans stay booleans, counts integers, money and rates
doubles (rates as fractions), bands text with their `_band_order` sort key.
DuckDB writes the Parquet files; Hyper loads each with its own COPY from
Parquet (`external()`), the fast path, never row by row.

Writes are atomic: everything is written into a new directory beside the
old one, which is swapped in only when every file is complete, so a failed
or interrupted export leaves the previous files exactly as they were.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from metanprom.settings import PROJECT_DIR, output_dir

PUBLIC_MARTS = (
    "customers", "customers_quarantined", "extract_summary", "analysis_bands", "churn_portrait",
    "product_portraits", "churn_by_feature", "missing_balance_profile", "feature_correlations",
    "customer_segments", "segment_summary", "segment_overlap", "segment_comparison", "segment_cut_points",
    "segment_discovery", "cluster_selection", "customer_clusters", "cluster_profiles", "hypothesis_results",
    "data_quality_summary",
)  # fmt: skip
#: Marts with one row per customer, whose ids --pseudonymise replaces.
CUSTOMER_LEVEL = ("customers", "customers_quarantined", "customer_segments", "customer_clusters")
PSEUDONYM_KEY_ENV = "METANPROM_PSEUDONYM_KEY"


class ExportError(RuntimeError):
    """The export could not be completed; the previous exports are intact."""


def _select(con: duckdb.DuckDBPyConnection, mart: str, pseudonym_key: str | None) -> str:
    columns = [r[0] for r in con.execute(f"describe main.{mart}").fetchall()]
    if pseudonym_key is None or mart not in CUSTOMER_LEVEL:
        return f"select * from main.{mart}"
    key = pseudonym_key.replace("'", "''")
    parts = []
    for column in columns:
        if column in ("customer_id", "customer_key"):
            # a keyed hash: the same customer gets the same pseudonym in every mart, and it cannot be reversed
            parts.append(f"left(sha256('{key}|' || {column}), 16) as {column}")
        elif column == "source_row_number":
            continue
        else:
            parts.append(column)
    return f"select {', '.join(parts)} from main.{mart}"


#: UTF-8's byte-order mark, which tells Excel the file is UTF-8 (Cyrillic intact).
BOM = "\ufeff"


def _csv_select(con: duckdb.DuckDBPyConnection, query: str) -> str:
    """The query with decimal commas, its first column named with the byte-order mark in front, so DuckDB
    writes the mark as the file's first bytes (no second pass over a file of gigabytes to prepend it)."""
    described = con.execute(f"describe ({query})").fetchall()
    parts = []
    for index, (name, kind, *_) in enumerate(described):
        alias = f'"{BOM}{name}"' if index == 0 else name
        if kind in ("DOUBLE", "FLOAT") or kind.startswith("DECIMAL"):
            parts.append(f"replace(cast({name} as varchar), '.', ',') as {alias}")
        else:
            parts.append(f"{name} as {alias}")
    return f"select {', '.join(parts)} from ({query})"


def _write_hyper(parquet_files: dict[str, Path], hyper_dir: Path, log_dir: Path) -> None:
    from tableauhyperapi import Connection, CreateMode, HyperProcess, Telemetry

    log_dir.mkdir(parents=True, exist_ok=True)
    with HyperProcess(
        telemetry=Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU, parameters={"log_dir": str(log_dir)}
    ) as hyper:
        for mart, parquet in parquet_files.items():
            target = hyper_dir / f"{mart}.hyper"
            with Connection(hyper.endpoint, str(target), CreateMode.CREATE_AND_REPLACE) as conn:
                conn.execute_command('create schema if not exists "Extract"')
                source = str(parquet).replace("'", "''")
                conn.execute_command(f'create table "Extract"."{mart}" as (select * from external(\'{source}\'))')


def data_dictionary(marts: list[str]) -> list[dict[str, str]]:
    """Every column of the exported marts with its description, from dbt's manifest."""
    manifest_path = PROJECT_DIR / "target" / "manifest.json"
    nodes = {}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        nodes = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    rows = []
    for mart in marts:
        node = nodes.get(mart, {})
        for name, column in node.get("columns", {}).items():
            rows.append(
                {
                    "mart": mart,
                    "mart_description": " ".join(node.get("description", "").split()),
                    "column": name,
                    "description": " ".join(column.get("description", "").split()),
                }
            )
    return rows


def export(
    warehouse: Path,
    out: Path | None = None,
    pseudonymise: bool = False,
    marts: tuple[str, ...] = PUBLIC_MARTS,
    log: Callable[[str], None] = print,
    _after_each: Callable[[str], None] | None = None,
) -> dict[str, object]:
    """Write every mart to hyper/, parquet/ and csv/ under `out`, swapping the whole directory in at the end."""
    out = Path(out) if out else output_dir() / "exports"
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
    try:
        for sub in ("hyper", "parquet", "csv"):
            (staging / sub).mkdir()
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            parquet_files = {}
            for mart in marts:
                query = _select(con, mart, key)
                parquet = staging / "parquet" / f"{mart}.parquet"
                con.execute(f"copy ({query}) to '{parquet}' (format parquet)")
                csv_path = staging / "csv" / f"{mart}.csv"
                con.execute(
                    f"copy ({_csv_select(con, query)}) to '{csv_path}' (format csv, header true, delimiter ';')"
                )
                counts[mart] = con.execute(f"select count(*) from main.{mart}").fetchall()[0][0]
                parquet_files[mart] = parquet
                if _after_each:
                    _after_each(mart)
        finally:
            con.close()
        log(f"  parquet and csv written ({len(marts)} marts), loading Tableau .hyper files ...")
        _write_hyper(parquet_files, staging / "hyper", staging / ".hyper-logs")
        shutil.rmtree(staging / ".hyper-logs", ignore_errors=True)
        rows = data_dictionary(list(marts))
        with open(staging / "data_dictionary.csv", "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["mart", "mart_description", "column", "description"])
            writer.writeheader()
            writer.writerows(rows)
        lines = ["# Data dictionary", "", "Every exported mart and column, from the dbt docs.", ""]
        for mart in marts:
            mart_rows = [r for r in rows if r["mart"] == mart]
            lines += [f"## {mart}", "", mart_rows[0]["mart_description"] if mart_rows else "", ""]
            lines += ["| column | description |", "|---|---|"]
            lines += [f"| {r['column']} | {r['description'].replace('|', '/')} |" for r in mart_rows]
            lines.append("")
        (staging / "data_dictionary.md").write_text("\n".join(lines), encoding="utf-8")
        (staging / "export.json").write_text(
            json.dumps({"warehouse": str(warehouse), "pseudonymised": pseudonymise, "rows": counts}, indent=1),
            encoding="utf-8",
        )
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
