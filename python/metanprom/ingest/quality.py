"""Data-quality gates with Great Expectations (1.x, pandas route): raw extracts and public marts.

Which layer checks what (the severity policy is in SEVERITY_POLICY and the README):

* Raw extracts, before `dbt build` starts. Great Expectations, on the text of
  a fixed sample (every row of a file up to GE_MAX_ROWS): the file's shape
  (exact header, at least one row), that values parse and are in their sets
  (most rows; the rest are quarantined by dbt), null shares within tolerance,
  duplicate customer keys. DuckDB, on every row in one scan, the same
  expectations to the letter (`number_checks`): value ranges, a negative
  balance, salaries below the legal minimum. On DuckDB that scan also keeps
  the rows the keyed sample is chosen from (`_scan_raw`), so a large file is
  read once whole, not once for the checks and once for the sample.
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
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from metanprom import project
from metanprom.ingest.check_results import CheckResult
from metanprom.ingest.formats import FORMATS
from metanprom.ingest.gate_sql import DuckDbGate, GateSql, UnreadableExtractError, cast_number, ordered
from metanprom.ingest.suites import mart_spec, raw_spec
from metanprom.sqltext import md5_cut_off

#: Above this many rows, GE validates a keyed sample of this many, the same on every run and engine (dbt's SQL
#: checks still see every row; the error-severity range checks, like a negative balance, see every row too, see
#: `number_checks`). See `_raw_sample` and `_mart_sample`.
GE_MAX_ROWS = 200_000
#: The start of the FutureWarning PySpark gives on import beside pandas >= 3 (see `_gx`).
PYSPARK_PANDAS_WARNING = "PySpark does not yet fully support pandas"


def _gx():
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars in the run's output
    with warnings.catch_warnings():
        # GX imports PySpark (when installed) to see whether Spark is available, and PySpark warns then that it
        # does not support pandas >= 3: nothing here runs on PySpark, so every run printed a warning that does
        # not apply to it. Only that warning, only while GX loads; `metanprom spark-build` runs on PySpark in a
        # process of its own, where it is still shown.
        warnings.filterwarnings("ignore", message=PYSPARK_PANDAS_WARNING, category=FutureWarning)
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
    # the suite is stored whole: adding its expectations one by one to a stored suite re-serialises it each time
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=_expectations(gx, spec)))
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
    # An ephemeral context comes with a Data Docs site in a fresh temporary folder: every checkpoint rendered its
    # HTML there (a second per gate at 10,000 rows) and left the folder behind. Docs go only where asked.
    for site in list(context.list_data_docs_sites()):
        context.delete_data_docs_site(site)
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


def _outside(engine: GateSql, column: str, kwargs: dict[str, Any]) -> str:
    """SQL: the value of `column` is present and outside the expectation's [min_value, max_value]."""
    number = engine.number(column)
    return f"({number} is not null and ({_beyond(number, kwargs)}))"


def _beyond(number: str, kwargs: dict[str, Any]) -> str:
    """SQL: the double `number` is below the expectation's min_value or above its max_value (null if it is null)."""
    bounds = []
    if kwargs.get("min_value") is not None:
        bounds.append(f"{number} < {float(kwargs['min_value'])!r}")
    if kwargs.get("max_value") is not None:
        bounds.append(f"{number} > {float(kwargs['max_value'])!r}")
    return " or ".join(bounds) or "false"


def _first_by(
    engine: GateSql, relation: str, columns: list[str], order: str, tiebreak: str, total: int | None = None
) -> pd.DataFrame:
    """The GE_MAX_ROWS rows of `relation` (its `columns`) first by the BIGINT `order`, then by `tiebreak`.

    `order` is the first 60 bits of an md5, uniform over [0, 2^60). Given the relation's row count (`total`), the
    rows below a cut-off where about a quarter more than GE_MAX_ROWS are expected are read and ordered: one pass.
    Without it, or should the cut-off hold too few, the last order kept is found first by a narrow query over
    `order` alone, then the rows up to it are read (ordering whole rows held 2 to 3.5 GB at 10 million rows).
    The same rows either way."""
    every = ", ".join(engine.quote(c) for c in columns)
    first = f"order by {order}, {tiebreak} limit {GE_MAX_ROWS}"
    if total:
        cut = md5_cut_off(GE_MAX_ROWS, total)
        if cut is not None:
            rows = engine.query(f"select {every} from {relation} where {order} < {cut} {first}")
            if len(rows) == min(GE_MAX_ROWS, total):
                return rows
    last = engine.rows(f"select max(o) from (select {order} as o from {relation} order by o limit {GE_MAX_ROWS})")
    return engine.query(f"select {every} from {relation} where {order} <= {int(last[0][0])} {first}")


def _raw_order(engine: GateSql, fmt_name: str) -> str:
    """SQL: a raw row's sample order, the md5 of its customer id, city and the project's seed (first 60 bits)."""
    fmt = FORMATS[fmt_name]
    key = ", '|', ".join(f"coalesce({engine.quote(fmt.raw(c))}, '')" for c in ("customer_id", "city"))
    seed = engine.string(str(project.random_seed()))
    return engine.md5_order(f"concat({key}, '|', {seed})")


#: The one-scan route aims its cut-off at this share of the estimated row count: an estimate up to a quarter too
#: high still leaves enough rows below it; one too low only keeps more rows than needed.
ESTIMATE_MARGIN = 0.8


def _scan_raw(
    engine: GateSql, relation: str, fmt_name: str, present: list[str], spec: list[tuple[str, dict[str, Any], str]]
) -> tuple[list[CheckResult], int, pd.DataFrame]:
    """The range checks on every row, the row count and the sample Great Expectations validates (`_raw_sample`),
    reading a large file once whole.

    A file of more rows than GE_MAX_ROWS, with the format's columns, on an engine that estimates its row count
    (DuckDB, from the file's size and its first rows' bytes): one aggregate computes the checks and the count and
    keeps the rows below a cut-off of the sample order where about half as many again as GE_MAX_ROWS are expected;
    the sample is the first of those. Should they be too few (the estimate was far too high), or elsewhere, the
    checks' scan gives the count and a second scan the sample (`number_checks`, `_raw_sample`). The same checks and
    the same rows either way."""
    first = _first_rows(engine, relation, present)
    if len(first) > GE_MAX_ROWS and present == list(FORMATS[fmt_name].header):
        estimate = engine.estimated_rows(len(first))
        cut = md5_cut_off(GE_MAX_ROWS, int(estimate * ESTIMATE_MARGIN)) if estimate else None
        if cut is not None:
            counts, kept, sample = engine.aggregate_keeping_first(
                relation, ["count(*)", *_number_counts(engine, spec)], present, _raw_order(engine, fmt_name),
                cut, ordered(engine, present), GE_MAX_ROWS,
            )  # fmt: skip
            if kept >= GE_MAX_ROWS:
                total = int(counts[0])
                return _number_results(engine, relation, fmt_name, spec, [int(n) for n in counts[1:]]), total, sample
    numbers, total = number_checks(engine, relation, fmt_name, spec)
    return numbers, total, _raw_sample(engine, relation, fmt_name, present, total, first)


def _first_rows(engine: GateSql, relation: str, present: list[str]) -> pd.DataFrame:
    """The first GE_MAX_ROWS + 1 rows of a file in its order (its `present` columns): all of a small file, and
    whether it is larger than GE_MAX_ROWS."""
    every = ", ".join(engine.quote(c) for c in present)
    return engine.query(f"select {every} from {relation}{engine.file_order} limit {GE_MAX_ROWS + 1}")


def _raw_sample(
    engine: GateSql,
    relation: str,
    fmt_name: str,
    present: list[str],
    rows: int | None = None,
    first: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """What Great Expectations validates of a file: every row of a file of at most GE_MAX_ROWS rows, in the file's
    order; of a larger one, a keyed sample, the GE_MAX_ROWS rows first by the md5 of their customer id, city and
    the project's seed (its first 60 bits), then by their text: rows sharing a key end up side by side, so a
    repeated key is seen whole, and the choice is the same on every run and engine. A larger file whose columns
    are wrong gives its first rows. `rows`: the file's row count, if known (the sample is then read in one pass);
    `first`: its first GE_MAX_ROWS + 1 rows in the file's order, if already read."""
    if first is None:
        first = _first_rows(engine, relation, present)
    if len(first) <= GE_MAX_ROWS:
        return first
    if present != list(FORMATS[fmt_name].header):
        return first.head(GE_MAX_ROWS)
    return _first_by(engine, relation, present, _raw_order(engine, fmt_name), ordered(engine, present), rows)


def _mart_sample(engine: GateSql, relation: str, total: int) -> pd.DataFrame:
    """What Great Expectations validates of a mart: every row of one of at most GE_MAX_ROWS rows; of a larger one,
    a keyed sample the same on every run and engine: by the customers' `sample_order` (in a mart keyed by
    customer, the rows of the first GE_MAX_ROWS customers of `customers`), else by the md5 of the text of each
    row's key (`project.unique_keys`), or of its columns other than floating point where it declares none.
    Only narrow columns are ordered over the whole mart."""
    columns = engine.columns(relation)
    if total <= GE_MAX_ROWS:
        # in an order of their own: an engine may return a table's rows in any order
        every = ", ".join(engine.quote(c) for c in columns)
        return engine.query(f"select {every} from {relation} order by {ordered(engine, columns)}")
    if "sample_order" in columns:
        return _first_by(engine, relation, columns, "sample_order", ordered(engine, columns), total)
    if {"extract", "customer_key"} <= set(columns):
        customers = engine.marts()["customers"]
        last = (
            f"(select max(sample_order) from (select sample_order from {customers} order by sample_order"
            f" limit {GE_MAX_ROWS}))"
        )
        chosen = f"(select extract, customer_key, sample_order from {customers} where sample_order <= {last})"
        every = ", ".join(f"m.{engine.quote(c)}" for c in columns)
        return engine.query(
            f"select {every} from {relation} as m inner join {chosen} as chosen"
            " on m.extract = chosen.extract and m.customer_key = chosen.customer_key"
            f" order by chosen.sample_order, {ordered(engine, columns, 'm.')} limit {GE_MAX_ROWS}"
        )
    # by the md5 of its key (the columns its unique_combination_of_columns test holds unique), if every engine
    # prints them alike (not floating point), else of all such columns: a key of short columns spares hashing
    # long text (dashboard_customers at 10 million customers, 4.8 million rows: its sample took 4.2 s with its
    # offers and names hashed, 2.6 s by its key); first below a cut-off of that order (one pass), else every
    # row's order first (the same rows)
    exact = engine.exact_columns(relation)
    key = list(project.unique_keys().get(_mart_name(relation), ()))
    hashed = key if key and set(key) <= set(exact) else exact
    cut = md5_cut_off(GE_MAX_ROWS, total)
    if cut is not None:
        rows = engine.rows_by_row_md5(relation, columns, hashed, GE_MAX_ROWS, below=cut)
        if len(rows) == min(GE_MAX_ROWS, total):
            return rows
    return engine.rows_by_row_md5(relation, columns, hashed, GE_MAX_ROWS)


def _mart_name(relation: str) -> str:
    """A mart's name from the relation an engine names it by (`main."customers"`, `metanprom.customers`)."""
    return relation.rsplit(".", 1)[-1].strip('"').replace('""', '"')


def _snake(name: str) -> str:
    """An expectation's name as Great Expectations reports it: ExpectColumnValuesToBeBetween ->
    expect_column_values_to_be_between."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def number_checks(
    engine: GateSql, relation: str, fmt_name: str, spec: list[tuple[str, dict[str, Any], str]]
) -> tuple[list[CheckResult], int]:
    """The range checks on every row's numbers, in one aggregate over the file (no row leaves the engine), and the
    row count.

    Each is Great Expectations' ExpectColumnValuesToBeBetween, to the letter: nulls and unparsable values
    are not counted, the bounds are inclusive, and a failure shows its first three values in the file's
    order (fetched only for a check that failed).
    """
    row = engine.rows(f"select {', '.join(['count(*)', *_number_counts(engine, spec)])} from {relation}")[0]
    return _number_results(engine, relation, fmt_name, spec, [int(n) for n in row[1:]]), int(row[0])


def _number_counts(engine: GateSql, spec: list[tuple[str, dict[str, Any], str]]) -> list[str]:
    """SQL aggregates: for each range check of `spec`, how many rows it finds outside."""
    for name, _, _ in spec:
        if name != "ExpectColumnValuesToBeBetween":
            raise ValueError(f"{name}: only ExpectColumnValuesToBeBetween is computed in SQL")
    # The engine's plain cast sorts out first the rows inside the bounds (nearly all), and only the rows it puts
    # outside are read by the number grammar's regular expression (`_outside`): every number of the grammar
    # reads as the same value by that cast, so no row outside is missed. At 10 million rows: 2.7 s instead of 3.8.
    return [
        f"count(case when {_beyond(cast_number(engine.trimmed(k['column'])), k)}"
        f" then case when {_outside(engine, k['column'], k)} then 1 end end)"
        for _, k, _ in spec
    ]


def _number_results(
    engine: GateSql, relation: str, fmt_name: str, spec: list[tuple[str, dict[str, Any], str]], unexpected: list[int]
) -> list[CheckResult]:
    """The range checks' results from how many rows each found outside (`_number_counts`), a failed one with its
    first three values in the file's order."""
    results = []
    for (name, kwargs, severity), count in zip(spec, unexpected, strict=True):
        examples = []
        if count:
            outside = _outside(engine, kwargs["column"], kwargs)
            examples = [
                float(r[0])
                for r in engine.rows(
                    f"select {engine.number(kwargs['column'])} from {relation} where {outside}{engine.file_order}"
                    " limit 3"
                )
            ]
        results.append(
            CheckResult(
                layer="raw",
                dataset=fmt_name,
                check=_snake(name) + (f" (mostly {kwargs['mostly']})" if kwargs.get("mostly", 1) != 1 else ""),
                column=kwargs["column"],
                severity=severity,
                success=count == 0,
                unexpected_count=count,
                observed=f"e.g. {examples}" if examples else None,
            )
        )
    return results


def check_raw(
    files: dict[str, Path | str], docs_dir: Path | None = None, context=None, engine: GateSql | None = None
) -> tuple[list[CheckResult], dict[str, int]]:
    """Run the raw-extract checks on each file; results and each file's row count.

    Great Expectations validates the text of a fixed sample of at most GE_MAX_ROWS rows (every row of a
    smaller file): the header, sets, formats, null shares, duplicate keys. The range checks on the numbers
    see every row (a single negative balance must stop the run) and are computed by the engine in one scan.
    `engine`: where the files are read (default: DuckDB; `gate_sql.SparkGate` reads them with Spark, in place).
    """
    gx, context = context or gx_context(docs_dir)
    results: list[CheckResult] = []
    counts: dict[str, int] = {}
    for fmt_name, path in files.items():
        gate = engine or DuckDbGate()
        try:
            relation, present = gate.read_raw(path, fmt_name)
            text_spec, number_spec = raw_spec(fmt_name)
            if present != list(FORMATS[fmt_name].header):
                text_spec = text_spec[:1]  # columns are wrong: the other checks would only repeat it
                number_spec = []
            numbers, counts[fmt_name], text = _scan_raw(gate, relation, fmt_name, present, number_spec)
        except gate.errors as error:
            first = str(error).strip().splitlines()
            detail = " ".join(line.strip() for line in first[:2])
            raise UnreadableExtractError(f"{path}: cannot be read as a {fmt_name} CSV extract: {detail}") from error
        finally:
            if engine is None:
                gate.close()
        results += _validate(gx, context, fmt_name, "raw", text, text_spec, "")
        results += numbers
    return results, counts


def check_marts(
    warehouse: Path | None,
    raw_rows: dict[str, int] | None = None,
    docs_dir: Path | None = None,
    context=None,
    engine: GateSql | None = None,
) -> list[CheckResult]:
    """Run the public-mart suites on a built warehouse (read-only; or on the marts `engine` names, e.g. a Spark
    build's, `gate_sql.SparkGate`); per extract for customers."""
    gx, context = context or gx_context(docs_dir)
    results: list[CheckResult] = []
    spec = mart_spec(raw_rows)
    if engine is None and warehouse is None:
        raise ValueError("check_marts needs a warehouse file or an engine")
    gate = engine or DuckDbGate(warehouse)
    try:
        present = gate.marts()
        for mart, expectations in spec.items():
            if mart not in present:
                results.append(
                    CheckResult("mart", mart, "the mart exists", None, "error", False, None, f"no table main.{mart}")
                )
                continue
            total = gate.rows(f"select count(*) from {present[mart]}")[0][0]
            frame = _mart_sample(gate, present[mart], total)
            results += _validate(gx, context, mart, "mart", frame, expectations, "")
        if raw_rows:
            for extract, rows in raw_rows.items():
                name = gate.string(extract)
                accounted = gate.rows(
                    f"select (select count(*) from {present['customers']} where extract = {name})"
                    f" + (select count(*) from {present['customers_quarantined']} where extract = {name})"
                )[0][0]
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
        if engine is None:
            gate.close()
    return results


def fresh_docs_dir(docs_dir: Path) -> Path:
    """An empty directory for Data Docs (the previous ones are replaced)."""
    if docs_dir.exists():
        shutil.rmtree(docs_dir)
    return docs_dir
