"""Where things are: the dbt project, the warehouse file, the outputs."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: The repository checkout that holds dbt_project.yml (the package is installed from it, editable).
PROJECT_DIR = Path(os.environ.get("METANPROM_PROJECT_DIR", Path(__file__).resolve().parents[2]))

#: The environment variable that names the DuckDB warehouse file (profiles.yml reads it too).
WAREHOUSE_ENV = "METANPROM_DUCKDB_PATH"


#: DuckDB's memory limit for the build and the exports (e.g. 2GB); unset: DuckDB's own default (80 % of RAM).
MEMORY_LIMIT_ENV = "METANPROM_DUCKDB_MEMORY_LIMIT"


#: Where `metanprom run` tells dbt the raw gate's results are (stg_quality__raw_checks reads them).
QUALITY_RESULTS_ENV = "METANPROM_QUALITY_RESULTS_PATH"


def extract_path_env(extract: str) -> str:
    """The environment variable that gives dbt a user's file of `extract` (macro extract_path reads it)."""
    return f"METANPROM_{extract.upper()}_PATH"


def duckdb_memory_limit() -> str | None:
    """The memory limit set by $METANPROM_DUCKDB_MEMORY_LIMIT, or None for DuckDB's own default."""
    return os.environ.get(MEMORY_LIMIT_ENV) or None


def limit_duckdb_memory(con: Any) -> None:
    """The build's memory budget ($METANPROM_DUCKDB_MEMORY_LIMIT) on a DuckDB connection the package opens (the
    quality gates', the exports'); none set, DuckDB's own. A value DuckDB refuses raises ValueError naming the
    variable (the raw gate opens its connection before dbt starts, so a run stops there, not in dbt's hook).

    Set on the connection, not in its config: the report opens the same warehouse meanwhile, and DuckDB
    refuses a second connection to one file with another configuration.
    """
    import duckdb

    from metanprom.sqltext import sql_string

    limit = duckdb_memory_limit()
    if limit:
        try:
            con.execute(f"set memory_limit = {sql_string(limit)}")
        except duckdb.Error as error:
            raise ValueError(
                f"${MEMORY_LIMIT_ENV}={limit!r} is not a memory limit DuckDB takes: a size such as 2GB, or a share "
                f"of the machine's memory such as 50% ({error})"
            ) from error


def warehouse_path() -> Path:
    """The warehouse file: $METANPROM_DUCKDB_PATH, else warehouse/metanprom.duckdb in the project."""
    configured = os.environ.get(WAREHOUSE_ENV)
    return Path(configured).resolve() if configured else PROJECT_DIR / "warehouse" / "metanprom.duckdb"


#: The environment variable that names where exports and reports go.
OUTPUT_ENV = "METANPROM_OUTPUT_DIR"


def output_dir() -> Path:
    """Where exports and reports go: $METANPROM_OUTPUT_DIR, else output/ in the project."""
    configured = os.environ.get(OUTPUT_ENV)
    return Path(configured).resolve() if configured else PROJECT_DIR / "output"


@contextlib.contextmanager
def scoped_environment(variables: dict[str, str]) -> Iterator[None]:
    """These environment variables for the block only (dbt in this process, and every process started inside
    the block, read them); the previous values, or their absence, come back after it."""
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
