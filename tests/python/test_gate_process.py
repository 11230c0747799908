"""The gates' own process: the same checks as in the run's process, and how it starts."""

from __future__ import annotations

import threading

from metanprom.ingest import quality
from metanprom.ingest.gate_process import GateProcess, start_method
from metanprom.settings import PROJECT_DIR

SEEDS = {name: PROJECT_DIR / "seeds" / f"{name}.csv" for name in ("bank_scrooge", "bank_dataset")}


def test_the_gate_process_checks_as_this_process_does() -> None:
    here = quality.check_raw(SEEDS)
    with GateProcess() as gates:
        there = gates.check_raw(SEEDS).result()
    assert there.value == here
    assert here[1] == {"bank_scrooge": 10_000, "bank_dataset": 10_000}
    assert there.cpu_seconds > 0


def test_a_process_where_another_thread_runs_spawns_its_gate_process() -> None:
    """Forking copies only the forking thread: a lock another thread held would stay held in the child."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert start_method() == "spawn"
    finally:
        stop.set()
        other.join()
