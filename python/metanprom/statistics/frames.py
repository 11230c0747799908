"""Read only what a Python step needs from a DuckDB relation: chosen columns, optionally a fixed sample.

A sample is the customers first in SAMPLE_ORDER: their `sample_order` (the first
60 bits (15 hexadecimal digits) of the md5 of their key and the project's seed, computed once per
customer by the dbt macro `sample_order`, whose SQL is SAMPLE_ORDER_SQL), then
their key. It is a uniform random choice that is the same on every run, thread
count and engine. Its rows arrive in that order, so the first m rows of a
sample are the sample of m.
"""

from __future__ import annotations

import threading

import duckdb
import pandas as pd

from metanprom import project
from metanprom.sqltext import md5_order, sql_string

SAMPLE_SEED = project.random_seed()
#: A customer's sample order from the key (the dbt macro sample_order renders the same SQL; `customers` holds it
#: as the column `sample_order`).
SAMPLE_ORDER_SQL = md5_order(f"concat(customer_key, '|', '{SAMPLE_SEED}')")
#: What orders customers for a sample: the stored order, then the key (a 60-bit tie is vanishingly rare).
SAMPLE_ORDER = "sample_order, customer_key"

_LOCAL = threading.local()


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


def local_relation(frame: pd.DataFrame) -> duckdb.DuckDBPyRelation:
    """Rows read from any engine (e.g. `int_customers_sampled`, from DuckDB or Spark) as a relation of this
    thread's in-memory DuckDB, in SAMPLE_ORDER: the functions written for a DuckDB relation of customers
    (`sample_of`, `columns_frame`, the correlations) then run on them unchanged, with the same figures on
    every engine. Pandas' missing values (NaN, None) arrive as SQL nulls."""
    if not hasattr(_LOCAL, "con"):
        _LOCAL.con = duckdb.connect()  # one in-memory connection per thread, reused
    return _LOCAL.con.from_df(frame).order(SAMPLE_ORDER).materialize()
