"""Shared fixtures: the real extracts (skipped when absent) and built warehouses."""

from __future__ import annotations

from pathlib import Path

import pytest

from metanprom import pipeline
from metanprom.settings import PROJECT_DIR

REAL_DATA = PROJECT_DIR.parent / "shared" / "data"
REAL_FILES = {"bank_scrooge": REAL_DATA / "bank_scrooge.csv", "bank_dataset": REAL_DATA / "bank_dataset.csv"}


def real_extract(name: str) -> Path:
    """Path of a real extract in ../shared/data, or skip the test with the reason."""
    path = REAL_FILES[name]
    if not path.is_file():
        pytest.skip(f"the real extract {path} is absent (a fresh clone has no ../shared/data)")
    return path


@pytest.fixture(scope="session")
def shipped_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse built by the main job on the shipped seeds."""
    target = tmp_path_factory.mktemp("shipped") / "metanprom.duckdb"
    pipeline.build({"bank_scrooge": None, "bank_dataset": None}, target, log=lambda _: None)
    return target


@pytest.fixture(scope="session")
def real_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse built by the main job on both real extracts."""
    files = {name: real_extract(name) for name in REAL_FILES}
    target = tmp_path_factory.mktemp("real") / "metanprom.duckdb"
    pipeline.build(files, target, log=lambda _: None)
    return target
