"""Read only what a Python step needs from a DuckDB relation: chosen columns, optionally a fixed sample.

A sample is the customers first in SAMPLE_ORDER: the md5 of their key and the
project's seed, a uniform random choice that is the same on every run, thread
count and engine (md5 and string order are standard SQL functions; the dbt macro
`sample_key` writes the same expression). Its rows arrive in that order, so the
first m rows of a sample are the sample of m.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from metanprom import project
from metanprom.sqltext import sql_string

SAMPLE_SEED = project.random_seed()
#: What orders customers for a sample (the dbt macro sample_key renders the same SQL).
SAMPLE_ORDER = f"md5(concat(customer_key, '|', '{SAMPLE_SEED}'))"


def extracts_of(customers: duckdb.DuckDBPyRelation) -> list[str]:
    """The extracts present, in name order."""
    return sorted(r[0] for r in customers.project("extract").distinct().fetchall())


def columns_frame(
    customers: duckdb.DuckDBPyRelation, extract: str, columns: list[str], sample: int | None = None
) -> pd.DataFrame:
    """`columns` of one extract as a DataFrame; with `sample`, the first that many customers in SAMPLE_ORDER,
    in that order."""
    rel = (
        customers.filter(f"extract = {sql_string(extract)}")
        if sample is None
        else sample_of(customers, extract, sample)
    )
    return rel.project(", ".join(columns)).df()


def sample_of(customers: duckdb.DuckDBPyRelation, extract: str, size: int) -> duckdb.DuckDBPyRelation:
    """The first `size` customers of one extract in SAMPLE_ORDER (all of them in a smaller extract), in that
    order, as a relation the engine computes on. Chosen once (materialised): every query on the sample reads
    these rows instead of ordering the whole extract again."""
    return customers.filter(f"extract = {sql_string(extract)}").order(SAMPLE_ORDER).limit(size).materialize()
