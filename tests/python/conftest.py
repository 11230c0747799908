"""Shared fixtures: the real extracts (skipped when absent) and built warehouses.

Tests never write into the project's own output/ or warehouse/: before any test
runs, the output and warehouse locations point into a scratch folder (every
process the tests start inherits that), and a check at the end of the session
fails if either folder of the project changed. dbt's target/ and logs/ go to the
same scratch folder (DBT_TARGET): the tests' builds leave a developer's own
compiled SQL, run results and partial parse alone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from metanprom import pipeline
from metanprom.settings import PROJECT_DIR

_SCRATCH = Path(tempfile.mkdtemp(prefix="metanprom-tests-"))
os.environ["METANPROM_OUTPUT_DIR"] = str(_SCRATCH / "output")
os.environ["METANPROM_DUCKDB_PATH"] = str(_SCRATCH / "warehouse" / "metanprom.duckdb")
(_SCRATCH / "warehouse").mkdir()
#: dbt's target folder for every build the tests run, in this process or another (a test that reads what dbt
#: compiled reads it here)
DBT_TARGET = _SCRATCH / "target"
os.environ["DBT_TARGET_PATH"] = str(DBT_TARGET)
os.environ["DBT_LOG_PATH"] = str(_SCRATCH / "logs")
PROTECTED = (PROJECT_DIR / "output", PROJECT_DIR / "warehouse")

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


#: A test that uses one of these fixtures (directly or through another fixture) builds a warehouse with dbt.
BUILD_FIXTURES = {"shipped_warehouse", "real_warehouse", "few_bad_rows_warehouse"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that builds a warehouse `integration`; `pytest -m "not integration"` runs the unit tests."""
    for item in items:
        if BUILD_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def _listing(folders: tuple[Path, ...]) -> dict[str, tuple[int, int]]:
    return {
        str(path): (path.stat().st_size, path.stat().st_mtime_ns)
        for folder in folders
        if folder.exists()
        for path in [folder, *folder.rglob("*")]
    }


@pytest.fixture(scope="session", autouse=True)
def _project_outputs_untouched() -> Iterator[None]:
    """Fails the session if a test wrote into the project's output/ or warehouse/."""
    before = _listing(PROTECTED)
    yield
    after = _listing(PROTECTED)
    changed = sorted(set(before.items()) ^ set(after.items()))
    shutil.rmtree(_SCRATCH, ignore_errors=True)  # the session's own output and warehouse folder
    assert not changed, f"tests wrote into the project's own output/ or warehouse/: {changed[:5]}"
