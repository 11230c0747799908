"""Data-quality gates with Great Expectations (1.x, pandas route): raw extracts and public marts.

Which layer checks what (the severity policy is in SEVERITY_POLICY and the README):

* Great Expectations, raw extracts, beside `dbt build` (whose new file replaces
  nothing unless this gate passes): the file's shape
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

import json
import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from metanprom import project
from metanprom.ingest.formats import FLAG_COLUMNS, FORMATS, NUMERIC_COLUMNS
from metanprom.sqltext import sql_string

#: Above this many rows, GE validates a fixed sample of this many (dbt's SQL checks still see every row;
#: the error-severity range checks, like a negative balance, see every row too, see `raw_frames`).
GE_MAX_ROWS = 200_000
#: The Russian federal minimum wage for 2026, roubles a month.
MINIMUM_WAGE_RUB = 27_093
NUMBER = r"^\s*-?\d+(\.\d+)?\s*$"

SEVERITY_POLICY = {
    "error": [
        "the header is not exactly the format's",
        "the file has no customer rows",
        "more than 5 % of a column's values do not parse, or are outside their set (city, gender, 0/1 flags)",
        "any negative balance",
        "more than 5 % of rows miss a required value",
        "a public mart has a column of the wrong type",
        "customers + quarantined rows differ from the rows in the file",
    ],
    "warning": [
        "any value that does not parse or is outside its set (those rows are quarantined)",
        "a value outside its plausible range (var `plausible_ranges` in dbt_project.yml: age, credit score, "
        "property score, product count), the bounds beyond which dbt quarantines the row",
        "salaries below the legal minimum wage (27,093 roubles a month in 2026)",
        "missing ages above 1 %, missing balances above 50 %",
        "a customer key (id and city) used twice",
        "an extract's churn rate outside 2-60 %; a registry hypothesis not tested",
    ],
}


class UnreadableExtractError(ValueError):
    """DuckDB cannot read the extract as CSV (e.g. a row with more fields than the header)."""


@dataclass
class CheckResult:
    layer: str
    dataset: str
    check: str
    column: str | None
    severity: str
    success: bool
    unexpected_count: int | None
    observed: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


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


def raw_spec(fmt_name: str) -> tuple[list[tuple[str, dict[str, Any], str]], list[tuple[str, dict[str, Any], str]]]:
    """Expectations on a raw extract: (on the values as text, on the values as numbers)."""
    fmt = FORMATS[fmt_name]
    raw = fmt.raw
    text: list[tuple[str, dict[str, Any], str]] = [
        ("ExpectTableColumnsToMatchOrderedList", {"column_list": list(fmt.header)}, "error"),
        ("ExpectTableRowCountToBeBetween", {"min_value": 1}, "error"),
        ("ExpectColumnValuesToNotBeNull", {"column": raw("customer_id"), "mostly": 0.95}, "error"),
        (
            "ExpectColumnValuesToBeInSet",
            {"column": raw("city"), "value_set": list(fmt.cities), "mostly": 0.95},
            "error",
        ),
        ("ExpectColumnValuesToBeInSet", {"column": raw("city"), "value_set": list(fmt.cities)}, "warning"),
        ("ExpectColumnValuesToBeInSet", {"column": raw("gender"), "value_set": ["Ж", "М"], "mostly": 0.95}, "error"),
        ("ExpectColumnValuesToBeInSet", {"column": raw("gender"), "value_set": ["Ж", "М"]}, "warning"),
    ]
    for canon in FLAG_COLUMNS:
        text.append(
            ("ExpectColumnValuesToBeInSet", {"column": raw(canon), "value_set": ["0", "1"], "mostly": 0.95}, "error")
        )
        text.append(("ExpectColumnValuesToBeInSet", {"column": raw(canon), "value_set": ["0", "1"]}, "warning"))
    for canon in NUMERIC_COLUMNS:
        text.append(
            ("ExpectColumnValuesToMatchRegex", {"column": raw(canon), "regex": NUMBER, "mostly": 0.95}, "error")
        )
        text.append(("ExpectColumnValuesToMatchRegex", {"column": raw(canon), "regex": NUMBER}, "warning"))
    for canon in ("credit_score", "property_score", "product_count", "estimated_salary", "is_churned"):
        text.append(("ExpectColumnValuesToNotBeNull", {"column": raw(canon), "mostly": 0.95}, "error"))
    text += [
        ("ExpectColumnValuesToNotBeNull", {"column": raw("age"), "mostly": 0.99}, "warning"),
        ("ExpectColumnValuesToNotBeNull", {"column": raw("balance"), "mostly": 0.5}, "warning"),
        ("ExpectCompoundColumnsToBeUnique", {"column_list": [raw("customer_id"), raw("city")]}, "warning"),
    ]
    numbers = [
        ("ExpectColumnValuesToBeBetween", {"column": raw("balance"), "min_value": 0}, "error"),
        *(
            ("ExpectColumnValuesToBeBetween", {"column": raw(column), "min_value": low, "max_value": high}, "warning")
            for column, (low, high) in project.plausible_ranges().items()
        ),
        (
            "ExpectColumnValuesToBeBetween",
            {"column": raw("estimated_salary"), "min_value": MINIMUM_WAGE_RUB},
            "warning",
        ),
    ]
    return text, numbers


def mart_spec(raw_rows: dict[str, int] | None) -> dict[str, list[tuple[str, dict[str, Any], str]]]:
    """Expectations on the public marts Tableau reads."""
    customers = [
        ("ExpectColumnValuesToBeInTypeList", {"column": "is_churned", "type_list": ["bool", "boolean"]}, "error"),
        (
            "ExpectColumnValuesToBeInTypeList",
            {"column": "product_count", "type_list": ["int32", "int64", "Int32"]},
            "error",
        ),
        ("ExpectColumnValuesToBeInTypeList", {"column": "balance", "type_list": ["float64", "Float64"]}, "error"),
        ("ExpectColumnValuesToMatchRegex", {"column": "age_band", "regex": r"^\d\d: "}, "error"),
        ("ExpectColumnMeanToBeBetween", {"column": "is_churned", "min_value": 0.02, "max_value": 0.6}, "warning"),
        ("ExpectColumnValuesToNotBeNull", {"column": "balance", "mostly": 0.5}, "warning"),
    ]
    if raw_rows:
        customers.append(("ExpectTableRowCountToBeBetween", {"min_value": 1}, "error"))
    return {
        "customers": customers,
        "segment_summary": [
            ("ExpectColumnValuesToBeInTypeList", {"column": "customers", "type_list": ["int64", "Int64"]}, "error"),
            ("ExpectColumnValuesToBeBetween", {"column": "churn_rate", "min_value": 0, "max_value": 1}, "error"),
        ],
        "dashboard_customers": [
            # the workbook's rates are SUM([churned]) / SUM([customers]): both must be integers
            ("ExpectColumnValuesToBeInTypeList", {"column": "churned", "type_list": ["int64", "Int64"]}, "error"),
            ("ExpectColumnValuesToBeInTypeList", {"column": "customers", "type_list": ["int64", "Int64"]}, "error"),
            ("ExpectColumnValuesToBeInTypeList", {"column": "is_churned", "type_list": ["bool", "boolean"]}, "error"),
            ("ExpectColumnValuesToNotBeNull", {"column": "scheme"}, "error"),
        ],
        "hypothesis_results": [
            ("ExpectColumnValuesToBeInSet", {"column": "status", "value_set": ["tested"]}, "warning"),
            ("ExpectColumnValuesToBeInTypeList", {"column": "reject_null", "type_list": ["bool", "boolean"]}, "error"),
        ],
    }


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


def _context(docs_dir: Path | None):
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
    gx, context = context or _context(docs_dir)
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
    gx, context = context or _context(docs_dir)
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


def failed(results: list[CheckResult], severity: str) -> list[CheckResult]:
    return [r for r in results if not r.success and r.severity == severity]


def results_text(results: list[CheckResult]) -> str:
    lines = [f"{'layer':<6}{'dataset':<20}{'severity':<9}{'result':<8}check"]
    for r in results:
        if r.success:
            continue
        where = f" [{r.column}]" if r.column else ""
        verdict = "FAILED" if r.severity == "error" else "WARNED"
        lines.append(f"{r.layer:<6}{r.dataset:<20}{r.severity:<9}{verdict:<8}{r.check}{where}: {r.observed or ''}")
    passed = sum(r.success for r in results)
    lines.append(
        f"{len(results)} checks: {passed} passed, {len(failed(results, 'error'))} failed (error), "
        f"{len(failed(results, 'warning'))} failed (warning)"
    )
    return "\n".join(lines)


def write_results(results: list[CheckResult], path: Path) -> None:
    """Write check results as JSON, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump([r.as_dict() for r in results], handle, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def fresh_docs_dir(docs_dir: Path) -> Path:
    """An empty directory for Data Docs (the previous ones are replaced)."""
    if docs_dir.exists():
        shutil.rmtree(docs_dir)
    return docs_dir
