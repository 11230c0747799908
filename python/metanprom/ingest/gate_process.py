"""The run's two Great Expectations gates in a process of their own, started first.

Loading Great Expectations takes 3 s or more (it loads pandas, scipy, altair and PySpark) and loading dbt
another 1.5 to 2 s; one after the other in one process, both were on the run's critical path before the
first model (a 10,000-row run took about 30 s, 5 s of it imports). The gate process loads Great
Expectations and checks the raw extracts while the run's own process loads dbt and parses the project,
so both machine cores work from the start. The build still starts only once the raw gate has passed,
and the mart gate runs in the same process (Great Expectations already loaded) on the finished file.

Each check is `quality.check_raw` / `quality.check_marts` unchanged: the same results as in the run's
own process. The gate process reports the CPU seconds it spent (`GateOutcome.cpu_seconds`), as the run
reports every step's.
"""

from __future__ import annotations

import gc
import multiprocessing
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metanprom.clock import cpu_seconds


@dataclass(frozen=True)
class GateOutcome:
    """A gate's result and the gate process's CPU seconds for it (the first includes loading Great
    Expectations); None where the gate ran in the run's own process (on Spark), whose steps are timed there."""

    value: Any
    cpu_seconds: float | None


_CONTEXT = None
_CPU_MARK = 0.0


def _context():
    """In the gate process: Great Expectations loaded, one context for every gate.

    Loaded without PySpark: the gate process only ever reads with DuckDB (on Spark the gates run in the run's own
    process), and Great Expectations loads PySpark only to see whether it is there. Spared, 0.4 s; and in a
    spawned process whose parent was started as `python -m ...` (pytest), the main module has no file, which
    PySpark's Connect module takes for a doctest run, and it ends the process (pyspark/sql/connect/utils.py)."""
    global _CONTEXT
    if _CONTEXT is None:
        from metanprom.ingest import quality

        sys.modules["pyspark"] = None  # type: ignore[assignment]  # `import pyspark` raises ImportError here

        _CONTEXT = quality.gx_context(None)
    return _CONTEXT


def _outcome(value: Any) -> GateOutcome:
    global _CPU_MARK
    gc.collect()  # the gate's frames sit in reference cycles: freed before the build peaks beside this process
    now = cpu_seconds()
    spent, _CPU_MARK = now - _CPU_MARK, now
    return GateOutcome(value, spent)


def _raw(files: dict[str, Path | str]) -> GateOutcome:
    from metanprom.ingest import quality

    return _outcome(quality.check_raw(files, context=_context()))


def _marts(warehouse: Path, raw_rows: dict[str, int]) -> GateOutcome:
    from metanprom.ingest import quality

    return _outcome(quality.check_marts(warehouse, raw_rows, context=_context()))


def start_method() -> str:
    """How the gate process starts: forked from this one when no other Python thread runs here (the run's own
    process, at the start of a build: the child has this process's modules already, metanprom and pandas
    among them, about 1 s sooner at work than a fresh interpreter), else spawned, a fresh interpreter (a
    process where other threads run, dbt's or Spark's gateway's: a lock one of them held at the fork would
    stay held in the child for ever)."""
    return "fork" if threading.active_count() == 1 else "spawn"


class GateProcess:
    """One process, started (`start_method`) when the first gate is asked for, that runs the gates one at a
    time. A context manager: leaving it stops the process; after a failure it does not wait for a gate whose
    result nobody asked for (the process stops once that gate ends). A gate process that dies (its memory
    exhausted, a signal) fails the gate with BrokenProcessPool; it never hangs the run."""

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context(start_method()))
        self._stop_with: Future | None = None

    def check_raw(self, files: dict[str, Path | str]) -> Future:
        """`quality.check_raw(files)` in the gate process: `.result()` gives a GateOutcome of (results, rows), or
        raises what the check raised (`UnreadableExtractError`)."""
        return self._pool.submit(_raw, files)

    def check_marts(self, warehouse: Path, raw_rows: dict[str, int]) -> Future:
        """`quality.check_marts(warehouse, raw_rows)` in the gate process; `.result()` gives a GateOutcome of the
        results."""
        return self._pool.submit(_marts, warehouse, raw_rows)

    def stop_with(self, work: Future) -> None:
        """Stop the process once `work` (a future in the run's process: the exports and reports made beside the mart
        gate) is done, not when the context ends. The gate process's CPU time is added to the run's when it is
        reaped (`clock.cpu_seconds`), so it is reaped after that work, not in the middle of its figures."""
        self._stop_with = work

    def __enter__(self) -> GateProcess:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        wait = kind is None
        if self._stop_with is not None:
            self._stop_with.add_done_callback(lambda _: self._pool.shutdown(wait=wait, cancel_futures=True))
        else:
            self._pool.shutdown(wait=wait, cancel_futures=True)
