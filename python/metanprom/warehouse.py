"""Read the built marts from the DuckDB warehouse (read-only: dbt must have finished)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from metanprom.settings import warehouse_path


class WarehouseMissingError(FileNotFoundError):
    """No warehouse has been built yet."""


@contextmanager
def connect(path: Path | None = None, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse; read-only unless asked otherwise."""
    target = Path(path) if path else warehouse_path()
    if read_only and not target.exists():
        raise WarehouseMissingError(f"{target}: no warehouse here yet; run `metanprom run` first")
    con = duckdb.connect(str(target), read_only=read_only)
    try:
        yield con
    finally:
        con.close()
