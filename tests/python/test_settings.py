"""Settings: environment variables scoped to a block; DuckDB's memory limit."""

from __future__ import annotations

import os

import duckdb
import pytest

from metanprom.settings import MEMORY_LIMIT_ENV, limit_duckdb_memory, scoped_environment


def test_a_scoped_environment_gives_back_what_was_there_and_what_was_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METANPROM_TEST_KEPT", "before")
    monkeypatch.delenv("METANPROM_TEST_ABSENT", raising=False)
    with pytest.raises(RuntimeError), scoped_environment({"METANPROM_TEST_KEPT": "x", "METANPROM_TEST_ABSENT": "y"}):
        assert (os.environ["METANPROM_TEST_KEPT"], os.environ["METANPROM_TEST_ABSENT"]) == ("x", "y")
        raise RuntimeError("the block fails")
    assert os.environ["METANPROM_TEST_KEPT"] == "before"
    assert "METANPROM_TEST_ABSENT" not in os.environ


def test_a_memory_limit_duckdb_refuses_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    con = duckdb.connect()
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(ValueError, match=r"\$METANPROM_DUCKDB_MEMORY_LIMIT='lots' is not a memory limit"):
        limit_duckdb_memory(con)
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "1GB")
    limit_duckdb_memory(con)
    assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "953.6 MiB"
