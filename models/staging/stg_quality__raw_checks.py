"""The raw-extract data-quality checks (Great Expectations) of this run: one row per expectation and extract.

`metanprom run` runs Great Expectations on the raw extracts beside `dbt build`
and, once every check is done and none of severity error failed, writes the
results to the JSON file in var `quality_results_path` (atomically). This
model waits for that file, at most var `quality_results_wait_seconds`, so the
rest of the build never waits for the gate. Without the var: no rows.
"""

from metanprom.quality import raw_checks_relation


def model(dbt, session):
    dbt.config(materialized="table")
    # plain calls: dbt finds the config keys a Python model reads by parsing `dbt.config.get(...)` statements
    path = dbt.config.get("quality_results_path")
    wait_seconds = dbt.config.get("quality_results_wait_seconds")
    return raw_checks_relation(session, path or None, float(wait_seconds or 0))
