"""Everything `metanprom run` delivers from a built warehouse: the exports and both reports, side by side."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from metanprom.clock import Stopwatch

if TYPE_CHECKING:
    from metanprom.delivery.report_process import ReportProcess

REPORT_LANGUAGES = ("en", "ru")
#: The step name of the exports and the reports together, as they run.
SIDE_BY_SIDE = "exports and reports, side by side"


@dataclass
class Delivered:
    """Where the exports and reports went, and the seconds each step took."""

    exports: Path
    reports: list[Path]
    #: wall seconds of each, and of both side by side (SIDE_BY_SIDE)
    seconds: dict[str, float] = field(default_factory=dict)
    #: CPU seconds of both side by side (this process's, whose CPU time cannot be told apart per thread, and the
    #: report process's for the reports, if they were rendered there)
    cpu_seconds: dict[str, float] = field(default_factory=dict)


def deliver(
    warehouse: Path,
    exports_dir: Path | None = None,
    pseudonymise: bool = False,
    duckdb_storage: str | None = None,
    log: Callable[[str], None] = print,
    report_dir: Path | None = None,
    formats: str | tuple[str, ...] | None = None,
    source: Path | None = None,
    checkpoint: Callable[[], None] | None = None,
    before_swap: Callable[[], None] | None = None,
    renderer: ReportProcess | None = None,
) -> Delivered:
    """Write the exports of `warehouse` into `exports_dir` and its reports into `report_dir` (each None: under
    `settings.output_dir()`); `formats`: the export formats (`export.export_formats`; None: every one).

    Both only read the warehouse, so they run side by side (the exports in DuckDB and Hyper, the charts
    in matplotlib). Each writes new files and swaps them in whole: a failure replaces nothing.

    A run delivers its new warehouse before it is swapped in (beside the mart gate: `pipeline.SwapVerdict`):
    `source` is the warehouse the exports and reports name; `checkpoint` (between steps) and `before_swap`
    (before each swap in) raise to abandon them, and nothing is swapped in.

    `renderer`: a report process (`report_process.ReportProcess`, the run's) that renders the reports while the
    exports run here; without it both run in this process, in two threads.
    """
    from metanprom.delivery.export import export, export_formats
    from metanprom.delivery.report import write_rendered, write_reports

    chosen = export_formats(formats)  # before anything runs: a wrong format is refused at once
    seconds: dict[str, float] = {}
    elsewhere: list[float] = []  # the report process's CPU seconds for the reports

    def exports() -> Path:
        step = time.perf_counter()
        out = export(
            warehouse,
            exports_dir,
            pseudonymise=pseudonymise,
            duckdb_storage=duckdb_storage,
            log=log,
            formats=chosen,
            source=source,
            checkpoint=checkpoint,
            before_swap=before_swap,
        )
        seconds["exports"] = time.perf_counter() - step
        log(f"  exports done in {seconds['exports']:.1f} s")
        return Path(out["out"])

    def reports() -> list[Path]:
        step = time.perf_counter()
        if checkpoint:
            checkpoint()
        if renderer is None:
            paths = write_reports(warehouse, REPORT_LANGUAGES, report_dir, source=source, before_swap=before_swap)
        else:
            texts, cpu = renderer.render(warehouse, REPORT_LANGUAGES, source)
            elsewhere.append(cpu)
            paths = write_rendered(texts, report_dir, before_swap)
        seconds["reports"] = time.perf_counter() - step
        log(f"  reports done in {seconds['reports']:.1f} s")
        return paths

    names = {"hyper": "Tableau .hyper", "duckdb": "DuckDB", "parquet": "Parquet", "csv": "CSV"}
    log(f"exporting the marts ({', '.join(names[f] for f in chosen)}) and writing the reports (en, ru) ...")
    watch = Stopwatch()
    with ThreadPoolExecutor(max_workers=2) as pool:
        export_job, report_job = pool.submit(exports), pool.submit(reports)
        delivered = Delivered(exports=export_job.result(), reports=report_job.result(), seconds=seconds)
    delivered.seconds[SIDE_BY_SIDE], delivered.cpu_seconds[SIDE_BY_SIDE] = watch.wall(), watch.cpu() + sum(elsewhere)
    return delivered
