"""Read only what a Python step needs from a DuckDB relation: chosen columns, optionally a fixed sample."""

from __future__ import annotations

import duckdb
import pandas as pd

from metanprom import project
from metanprom.sqltext import sql_string

SAMPLE_SEED = project.random_seed()


def extracts_of(customers: duckdb.DuckDBPyRelation) -> list[str]:
    """The extracts present, in name order."""
    return sorted(r[0] for r in customers.project("extract").distinct().fetchall())


def columns_frame(
    customers: duckdb.DuckDBPyRelation, extract: str, columns: list[str], sample: int | None = None
) -> pd.DataFrame:
    """`columns` of one extract as a DataFrame; with `sample`, at most that many customers.

    The sample is deterministic whatever the thread count: the customers with the
    smallest hash of their key (salted), which is a uniform random choice.
    """
    rel = customers.filter(f"extract = {sql_string(extract)}")
    if sample is not None:
        rel = rel.order(f"hash(customer_key, {SAMPLE_SEED})").limit(sample)
    return rel.project(", ".join(columns)).df()
