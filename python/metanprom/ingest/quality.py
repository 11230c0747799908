"""Data-quality gates with Great Expectations (1.x, pandas route): raw extracts and public marts.

Which layer checks what (the severity policy is in SEVERITY_POLICY and the README):

* Great Expectations, raw extracts, before `dbt build` starts: the file's shape
  (exact header, at least one row), that values parse and are in their sets
  (most rows; the rest are quarantined by dbt), value ranges, null shares
  within tolerance, duplicate customer keys, salaries below the legal minimum.
* dbt tests, in SQL, during the build: keys and uniqueness of every model,
  accepted values and ranges of the canonical columns, rows in = customers +
  quarantined per extract, shares summing to 1, rates in [0, 1]. GE does not
  repeat them.
* Great Expectations, public marts, after the build and before the new
  warehouse replaces the old one: what Tableau relies on beyond keys: column
  types, plausible churn rates, null shares, every registry hypothesis tested,
  and the customers + quarantined rows reconciling with the raw row count GE
  counted in the file.

A failed check of severity `error` stops `metanprom run` (nothing built is
replaced); `warning` is reported and the run goes on.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from metanprom.ingest.check_results import CheckResult
from metanprom.ingest.formats import FORMATS, NUMERIC_COLUMNS
from metanprom.ingest.suites import mart_spec, raw_spec
from metanprom.sqltext import sql_string

#: Above this many rows, GE validates a fixed sample of this many (dbt's SQL checks still see every row;
#: the error-severity range checks, like a negative balance, see every row too, see `raw_frames`).
GE_MAX_ROWS = 200_000


class UnreadableExtractError(ValueError):
    """DuckDB cannot read the extract as CSV (e.g. a row with more fields than the header)."""


def _gx():
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars in the run's output
    import great_expectations as gx

    return gx


def _expectations(gx, spec: list[tuple[str, dict[str, Any], str]]):
    out = []
    for name, kwargs, severity in spec:
        cls = getattr(gx.expectations, name)
        out.append(cls(**kwargs, severity="critical" if severity == "error" else "warning"))
    return out


def _validate(
    gx, context, dataset: str, layer: str, frame: pd.DataFrame, spec: list[tuple[str, dict[str, Any], str]], suffix: str
) -> list[CheckResult]:
    name = f"{layer}__{dataset}{suffix}"
    source = context.data_sources.add_pandas(name)
    asset = source.add_dataframe_asset(name=dataset)
    batch = asset.add_batch_definition_whole_dataframe("whole")
    suite = context.suites.add(gx.ExpectationSuite(name=name))
    for expectation in _expectations(gx, spec):
        suite.add_expectation(expectation)
    definition = context.validation_definitions.add(gx.ValidationDefinition(data=batch, suite=suite, name=name))
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=name,
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="docs")] if context.list_data_docs_sites() else [],
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = checkpoint.run(batch_parameters={"dataframe": frame})
    # The context keeps the validated frame (its cached batch) for as long as these objects exist: drop them, so a
    # frame of every row of a large extract does not stay in memory beside dbt for the rest of the run.
    context.checkpoints.delete(name)
    context.validation_definitions.delete(name)
    context.data_sources.delete(name)
    context.suites.delete(name)
    checks = []
    for run in result.run_results.values():
        for item in run.results:
            config = item.expectation_config
            kwargs = config.kwargs
            observed = item.result.get("observed_value")
            unexpected = item.result.get("partial_unexpected_list") or []
            detail = f"observed {observed}" if observed is not None else ""
            if unexpected:
                detail = (detail + "; " if detail else "") + f"e.g. {unexpected[:3]}"
            checks.append(
                CheckResult(
                    layer=layer,
                    dataset=dataset,
                    check=config.type + (f" (mostly {kwargs['mostly']})" if kwargs.get("mostly", 1) != 1 else ""),
                    column=kwargs.get("column") or (",".join(kwargs.get("column_list", [])) or None),
                    severity="error" if str(config.severity).lower().endswith("critical") else "warning",
                    success=bool(item.success),
                    unexpected_count=item.result.get("unexpected_count"),
                    observed=detail[:300] or None,
                )
            )
    return checks


def gx_context(docs_dir: Path | None):
    gx = _gx()
    context = gx.get_context(mode="ephemeral")
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no bars in the run's output
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(
            site_name="metanprom",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    return gx, context


def raw_frames(path: Path, fmt_name: str) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The extract as text (a fixed sample of at most GE_MAX_ROWS rows), its numeric columns as numbers
    (every row: a single negative balance must stop the run), and its row count."""
    fmt = FORMATS[fmt_name]
    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false")
        con.execute(
            f"create view raw as select * from read_csv({sql_string(path)}, header = true, all_varchar = true, "
            "null_padding = true)"
        )
        present_names = [r[0] for r in con.execute("describe raw").fetchall()]
        extra = [c for c in present_names if c not in fmt.header and c.startswith("column")]
        if extra and len(present_names) > len(fmt.header):
            condition = " or ".join(f'"{c}" is not null' for c in extra)
            lines = con.execute(
                f"select line from (select row_number() over () + 1 as line, * from raw) where {condition} limit 5"
            ).fetchall()
            raise UnreadableExtractError(
                f"{path}: line(s) {', '.join(str(r[0]) for r in lines)} have more fields than the header's "
                f"{len(fmt.header)}; expected one value per column of: {','.join(fmt.header)}"
            )
        # Two passes over the file, not four: the sample (a reservoir keeps every row of a small file), and
        # the numbers of every row, whose length is the row count.
        text = con.execute(f"select * from raw using sample {GE_MAX_ROWS} rows (reservoir, 42)").df()
        if len(text) < GE_MAX_ROWS:
            text = con.execute("select * from raw").df()  # every row, in the file's order
        numeric = [fmt.raw(c) for c in NUMERIC_COLUMNS if fmt.raw(c) in present_names]
        # trim() keeps DuckDB from pushing the cast into the CSV reader, where it would raise, not try
        casts = ", ".join(f'try_cast(trim("{c}") as double) as "{c}"' for c in numeric)
        if numeric:
            numbers = con.execute(f"select {casts} from raw").df()
            rows = len(numbers)
        else:
            numbers = pd.DataFrame()
            rows = con.execute("select count(*) from raw").fetchall()[0][0]
    finally:
        con.close()
    return text, numbers, rows


def check_raw(
    files: dict[str, Path], docs_dir: Path | None = None, context=None
) -> tuple[list[CheckResult], dict[str, int]]:
    """Run the raw-extract suites on each file; results and each file's row count."""
    gx, context = context or gx_context(docs_dir)
    results: list[CheckResult] = []
    counts: dict[str, int] = {}
    for fmt_name, path in files.items():
        try:
            text, numbers, rows = raw_frames(path, fmt_name)
        except duckdb.Error as error:
            first = str(error).strip().splitlines()
            detail = " ".join(line.strip() for line in first[:2])
            raise UnreadableExtractError(f"{path}: cannot be read as a {fmt_name} CSV extract: {detail}") from error
        counts[fmt_name] = rows
        text_spec, number_spec = raw_spec(fmt_name)
        if list(text.columns) != list(FORMATS[fmt_name].header):
            text_spec = text_spec[:1]  # columns are wrong: the other checks would only repeat it
            number_spec = []
        results += _validate(gx, context, fmt_name, "raw", text, text_spec, "")
        if number_spec:
            results += _validate(gx, context, fmt_name, "raw", numbers, number_spec, "__numbers")
    return results, counts


def check_marts(
    warehouse: Path, raw_rows: dict[str, int] | None = None, docs_dir: Path | None = None, context=None
) -> list[CheckResult]:
    """Run the public-mart suites on a built warehouse (read-only); per extract for customers."""
    gx, context = context or gx_context(docs_dir)
    results: list[CheckResult] = []
    spec = mart_spec(raw_rows)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        present = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'main' "
                "union all select view_name from duckdb_views() where schema_name = 'main' and not internal"
            ).fetchall()
        }
        for mart, expectations in spec.items():
            if mart not in present:
                results.append(
                    CheckResult("mart", mart, "the mart exists", None, "error", False, None, f"no table main.{mart}")
                )
                continue
            total = con.execute(f"select count(*) from main.{mart}").fetchall()[0][0]
            sample = f" using sample {GE_MAX_ROWS} rows (reservoir, 42)" if total > GE_MAX_ROWS else ""
            frame = con.execute(f"select * from main.{mart}{sample}").df()
            results += _validate(gx, context, mart, "mart", frame, expectations, "")
        if raw_rows:
            for extract, rows in raw_rows.items():
                accounted = con.execute(
                    "select (select count(*) from main.customers where extract = ?)"
                    " + (select count(*) from main.customers_quarantined where extract = ?)",
                    [extract, extract],
                ).fetchall()[0][0]
                results.append(
                    CheckResult(
                        layer="mart",
                        dataset="customers",
                        check="customers + quarantined = rows in the file",
                        column=None,
                        severity="error",
                        success=accounted == rows,
                        unexpected_count=abs(accounted - rows),
                        observed=f"{extract}: {accounted} accounted for, {rows} in the file",
                    )
                )
    finally:
        con.close()
    return results


def fresh_docs_dir(docs_dir: Path) -> Path:
    """An empty directory for Data Docs (the previous ones are replaced)."""
    if docs_dir.exists():
        shutil.rmtree(docs_dir)
    return docs_dir
