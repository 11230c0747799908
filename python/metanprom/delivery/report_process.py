"""The run's reports rendered in a process of their own, beside the exports.

In the run's own process the exports and the reports take turns holding the interpreter lock: both are mostly
Python at 10,000 rows (the exports' statements, matplotlib's text layout), so side by side in two threads they
gained little over one after the other. Here the reports are rendered in a second process, started and
loaded with matplotlib while dbt builds (at 10,000 rows the build keeps one core busy, its Python), so they use
the other core when the marts are built. The reports come back as HTML text; the run writes them and swaps them
in as before (`report.write_rendered`), so what is written, and when, is unchanged.

The process is spawned, a fresh interpreter: dbt's and DuckDB's threads already run in the run's process when it
starts, and a lock one of them held at a fork would stay held in the child for ever (`gate_process.start_method`).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from metanprom.clock import cpu_seconds


def _load() -> None:
    """In the report process: the report module and matplotlib loaded, before the marts are built."""
    from metanprom.delivery import report

    report.pyplot()


def _render(warehouse: Path, langs: tuple[str, ...], source: Path | None) -> tuple[dict[str, str], float]:
    """In the report process: each language's report (`report.render_reports`), and the CPU seconds it took."""
    from metanprom.delivery.report import render_reports

    started = cpu_seconds()
    texts = render_reports(warehouse, langs, source)
    return texts, cpu_seconds() - started


class ReportProcess:
    """One spawned process that renders the reports (`render`), started by `start` (or the first `render`) and
    stopped by `close` (a context manager: leaving it closes). A process that dies (its memory exhausted, a
    signal) fails `render` with an error that says so; it never hangs the run."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Start the process and load the report module and matplotlib in it; returns at once. Only the first call
        starts it."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            self._pool.submit(_load)

    def render(
        self, warehouse: Path, langs: tuple[str, ...], source: Path | None = None
    ) -> tuple[dict[str, str], float]:
        """`report.render_reports(warehouse, langs, source)` in the report process, and the CPU seconds it took
        there; raises what it raised."""
        self.start()
        assert self._pool is not None
        try:
            return self._pool.submit(_render, Path(warehouse), tuple(langs), source).result()
        except BrokenProcessPool as error:
            raise RuntimeError(
                "the process rendering the reports ended before they were rendered "
                "(its memory exhausted, or a signal): no report was written or replaced"
            ) from error

    def close(self) -> None:
        """Stop the process: at once if it is idle; one that is still loading ends when its load does."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ReportProcess:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        self.close()
