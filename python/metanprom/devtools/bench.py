"""The benchmark: the whole pipeline at several sizes, beside DuckDB's floor and a pandas baseline.

    metanprom bench --sizes 10000 1000000 10000000

For each size it generates a current-format extract with the project's
generator, then runs, each as its own process (so its peak memory is its
own): the floor (DuckDB alone: read the CSV into a table, one aggregate over
all columns), the pandas baseline (`metanprom.devtools.baseline`), the pipeline
(`metanprom run` on the extract: input checks, dbt build with every model,
Python model and test, quality gates and exports as far as `run` does them;
at small sizes once more, on the parse of the project the first run saved)
and the registry's hypotheses tested again on the built warehouse's customers
(`metanprom hypotheses`, which does not read hypothesis_results: it computes
every test anew).
Wall time and peak memory per stage go to a JSON file and BENCHMARKS.md,
with the machine they came from and where dbt's time went per model.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from metanprom.settings import MEMORY_LIMIT_ENV, OUTPUT_ENV, PROJECT_DIR, extract_path_env, scoped_environment

#: The marts that hold the figures the baseline computes (read and clean the extract, the churn portrait, churn
#: by feature, the segments' counts, the registry's hypothesis tests), with everything they are built from.
#: Built by `dbt build` without data tests, into a fresh file: the pipeline's stages that do the baseline's work.
#: (`customer_segments`, one row per customer and scheme, holds no figure the baseline computes, and none of
#: these marts reads it.)
SAME_ANALYSIS = (
    "+churn_portrait",
    "+churn_by_feature",
    "+segment_summary",
    "+hypothesis_results",
)
#: The pandas baseline in a process of its own that loads nothing else (`metanprom baseline` loads the CLI too),
#: and the same figures computed with Polars: the two peers of the same-analysis stage.
BASELINE_PROGRAM = "import sys; from metanprom.devtools.baseline import run; print(run(sys.argv[1]))"
POLARS_PROGRAM = "import sys; from metanprom.devtools.baseline import run; print(run(sys.argv[1], 'polars'))"
PEERS = ("pandas baseline", "Polars baseline")
STAGE_SAME_ANALYSIS = "same analysis as the baseline (dbt)"
#: `metanprom run` once more on the same extract, on the parse of the project the first run saved (what every run
#: after a user's first one does); at sizes up to REPEAT_MAX_ROWS, where dbt's fixed costs are most of a run.
STAGE_RUN_AGAIN = "metanprom run, again"
#: `metanprom hypotheses` on the built warehouse: every test of the registry computed again on its customers (it
#: does not read hypothesis_results back).
STAGE_HYPOTHESES = "hypotheses tested again (metanprom hypotheses)"
REPEAT_MAX_ROWS = 100_000

#: The speed issue's (#12) targets at the largest size (ratios) and at 10,000 rows (seconds).
TARGETS = {
    "dbt build / floor": ("<=", 10.0),
    "whole pipeline / floor": ("<=", 15.0),
    "pandas baseline / same analysis": (">=", 2.0),
    "peak GiB": ("<=", 4.0),
}
SMALL_RUN_TARGET_SECONDS = 8.0

#: DuckDB's memory budget in every stage of the bench ($METANPROM_DUCKDB_MEMORY_LIMIT): the 4 GiB peak
#: target holds at 10 million customers with DuckDB spilling to disk beyond it.
MEMORY_BUDGET = "2GB"

FLOOR_SQL = f"""
import duckdb, os, sys, time
t = time.perf_counter()
con = duckdb.connect()
con.execute("set enable_progress_bar = false")
con.execute("set memory_limit = '" + os.environ[{MEMORY_LIMIT_ENV!r}] + "'")
con.execute("create table t as select * from read_csv(?, header = true)", [sys.argv[1]])
con.execute("select count(*), min(columns(*)), max(columns(*)) from t").fetchall()
print(time.perf_counter() - t)
"""


def _tree_rss_kib(root: int) -> int:
    """Resident memory (KiB) of a process and all its descendants now, from /proc (0 where unreadable)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
        except (OSError, ValueError):
            continue
    return total


class _TreeMemorySampler(threading.Thread):
    """Samples the summed resident memory of a process tree: stages that run side by side (the raw gate beside
    dbt, exports beside reports) add up, which the largest single process (wait4's ru_maxrss) would not show."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kib = pid, interval, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak_kib = max(self.peak_kib, _tree_rss_kib(self.pid))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


#: A line of a failed stage's output that names an error: a Python or Java exception (`Caused by:` included), dbt's
#: and the CLI's failure lines; not a stack frame.
_ERROR_LINE = re.compile(r"^(?!\s+at )(?!\s+File ).*(Error|Exception|Caused by|failed|error:)")


def _excerpt(name: str, text: str, head_lines: int = 25, tail_chars: int = 3000, error_lines: int = 20) -> str:
    """A failed stage's output for its error: its first `head_lines` lines, the first `error_lines` lines between
    them and the tail that name an error (`_ERROR_LINE`: under Spark the exception and its `Caused by:` lines come
    after the start-up's lines and before thousands of frames), and its last `tail_chars` characters (where the
    traceback ends), with how much is left out; the whole text when it is no longer than head and tail."""
    lines = text.splitlines(keepends=True)
    head = "".join(lines[:head_lines])
    if len(head) + tail_chars >= len(text):
        return f"--- {name} ---\n{text}"
    tail = text[-tail_chars:]
    tail = tail[tail.find("\n") + 1 :] or tail  # from a line's start
    middle = text[len(head) : len(text) - len(tail)]
    errors = [line for line in middle.splitlines(keepends=True) if _ERROR_LINE.match(line)][:error_lines]
    kept = f"first {head_lines} lines, " if head_lines else ""
    found = f"{len(errors) or 'no'} line{'' if len(errors) == 1 else 's'} naming an error between them"
    heading = f"{name}: its {kept}last {len(tail):,} characters and {found}; {len(middle):,} characters in between"
    return f"--- {heading} ---\n{head}[...]\n{''.join(errors)}[...]\n{tail}"


def _peak_of(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> dict[str, Any]:
    """Run a command; its wall time, its CPU time (user and system, of the process and of every descendant
    waited for: wait4) and its peak resident memory in MiB: the larger of the sampled sum over its process tree
    (every 0.2 s) and the largest single process of the tree (wait4)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            command, stdout=out, stderr=err, text=True, env={**os.environ, **(env or {})}, cwd=cwd
        )
        sampler = _TreeMemorySampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        sampler.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({process.returncode}).\n"
            f"{_excerpt('stderr', stderr)}\n{_excerpt('stdout', stdout, head_lines=0, tail_chars=2000)}"
        )
    peak_mib = max(usage.ru_maxrss, sampler.peak_kib) / 1024
    cpu_seconds = usage.ru_utime + usage.ru_stime
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mib": peak_mib, "stdout": stdout}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    import duckdb

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d"),
        "duckdb_memory_limit": MEMORY_BUDGET,
    }


#: The Spark stage's name: `metanprom spark-build` (dbt on local Spark with the Python step) on the same extract.
STAGE_SPARK = "spark-build (local Spark)"


SPARK_SECTION_HEAD = [
    "",
    "## Spark",
    "",
    f"`{STAGE_SPARK}`: `metanprom spark-build` (one `dbt build --target spark`) on the same extract, on a local",
    "Spark in one JVM with the machine's cores (dbt-spark's session method): seeds, every SQL model, the Python",
    "steps and every data test, as `dbt build` does inside `metanprom run` on DuckDB (no gates, exports",
    "or report).",
    "",
    "| rows | Spark build, seconds | peak MiB | DuckDB's dbt build, seconds | Spark ÷ DuckDB |",
    "|---:|---:|---:|---:|---:|",
]
SPARK_ON_A_CLUSTER = [
    "",
    "What changes on a cluster (by design; measured here only on one machine):",
    "",
    "- Shuffles: every aggregate over the customers (`int_churn_by_value`, `int_segment_cells`,",
    "  `int_segment_counts`, `int_extract_churn_rates`, `dashboard_customers`, the portraits), the duplicate-key",
    "  window of `int_customers_validated`, the per-extract top-N of `int_customers_sampled` and of the",
    "  hypotheses' samples, and each hypothesis' value counts. Mann-Whitney's ranks run one window without a",
    "  partition over a hypothesis' distinct values: one task, as many rows as distinct values (money values:",
    "  up to the number of customers), the one step that does not spread over a cluster.",
    "- Collected to the driver, whatever the number of customers: the Python steps' small tables (aggregates",
    "  bounded by the features' values), `int_customers_sampled` (50,000 customers per extract), each",
    "  hypothesis' few sufficient statistics and fixed samples (at most 200,000 values), and the quality gates'",
    "  keyed samples for Great Expectations (at most 200,000 rows per extract and per mart; their checks on every",
    "  row are aggregates computed by Spark). At 100 million or 1 billion customers that is the same few hundred",
    "  megabytes; `metanprom run --target spark` alone copies the customer-level marts to the machine it runs on",
    "  (hundreds of bytes a customer: tens of GB at 100 million).",
]


def bench_size(rows: int, work: Path, seed: int = 0, spark: bool = False) -> dict[str, Any]:
    """Every stage at one size; with `spark`, the whole build on local Spark too (STAGE_SPARK)."""
    python = sys.executable
    metanprom = str(Path(sys.executable).parent / "metanprom")
    extract = work / f"bank_scrooge_{rows}.csv"
    warehouse = work / f"warehouse_{rows}.duckdb"
    timings = work / f"timings_{rows}.json"
    stages: dict[str, Any] = {}
    stages["generate"] = _peak_of(
        [
            metanprom,
            "generate",
            "--format",
            "bank_scrooge",
            "--rows",
            str(rows),
            "--seed",
            str(seed),
            "--out",
            str(extract),
        ]
    )
    floor = _peak_of([python, "-c", FLOOR_SQL, str(extract)])
    floor["inner_seconds"] = float(floor["stdout"].strip().splitlines()[-1])
    stages["floor (DuckDB alone)"] = floor
    stages["pandas baseline"] = _peak_of([python, "-c", BASELINE_PROGRAM, str(extract)])
    stages["Polars baseline"] = _peak_of([python, "-c", POLARS_PROGRAM, str(extract)])
    # dbt's compiled files, saved parse and log in a folder of this size's own, new: the first run parses the whole
    # project, as a user's first run does (never whatever the project's own target/ held), and writes nothing there
    dbt_folder = work / f"dbt_{rows}"
    shutil.rmtree(dbt_folder, ignore_errors=True)
    dbt_env = {"DBT_TARGET_PATH": str(dbt_folder / "target"), "DBT_LOG_PATH": str(dbt_folder / "logs")}
    run = [metanprom, "run", "--bank-scrooge", str(extract), "--warehouse", str(warehouse)]
    try:
        stages["metanprom run"] = _peak_of([*run, "--timings", str(timings)], env=dbt_env)
        stages["metanprom run"]["dbt_parse"] = dbt_parse(dbt_folder / "target")
        if rows <= REPEAT_MAX_ROWS:
            (dbt_folder / "target" / "perf_info.json").unlink()  # the second run's own, never the first's
            stages[STAGE_RUN_AGAIN] = _peak_of(run, env=dbt_env)
            stages[STAGE_RUN_AGAIN]["dbt_parse"] = dbt_parse(dbt_folder / "target")
        stages[STAGE_HYPOTHESES] = _peak_of([metanprom, "hypotheses", "--warehouse", str(warehouse)])
        stages[STAGE_SAME_ANALYSIS] = same_analysis(extract, work / f"same_{rows}.duckdb", dbt_env)
    finally:
        shutil.rmtree(dbt_folder, ignore_errors=True)
    if spark:
        stages[STAGE_SPARK] = spark_build(extract, work / f"spark_{rows}")
    detail = json.loads(timings.read_text(encoding="utf-8"))
    for item in stages.values():
        item.pop("stdout", None)
    return {"rows": rows, "extract_bytes": extract.stat().st_size, "stages": stages, "pipeline": detail}


def dbt_parse(target: Path) -> dict[str, Any]:
    """How the run's parse in `target` went (the perf_info.json that `dbt parse` writes, and `dbt build` does not):
    the project's files it read of all of them, and its seconds. A whole parse reads every file; one that reuses
    the saved parse, only those changed since."""
    info = json.loads((target / "perf_info.json").read_text(encoding="utf-8"))
    return {"files_parsed": info["parsed_path_count"], "files": info["path_count"], "seconds": info["load_all_elapsed"]}


def _file_state(path: Path) -> tuple[int, int] | None:
    """A file's modification time (ns) and size, or None if there is none."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


def same_analysis(extract: Path, warehouse: Path, dbt_env: dict[str, str] | None = None) -> dict[str, Any]:
    """`dbt build` of the SAME_ANALYSIS marts (models only) on `extract`, dbt's start-up and parse included.

    dbt opens the file as `metanprom run` does (`pipeline.dbt_warehouse`): its profile is the run's, so it reuses
    the run's parse of the project, as a second `dbt build` on an unchanged project does. `dbt_env`: the run's
    DBT_TARGET_PATH and DBT_LOG_PATH (where that parse is saved); the stage then reports whether dbt reused it
    (`saved_parse_reused`: dbt rewrites its saved parse, partial_parse.msgpack, whenever it parsed a file again)."""
    from metanprom.pipeline import DBT_WAREHOUSE_NAME, dbt_command, dbt_environment, dbt_warehouse

    warehouse.unlink(missing_ok=True)
    models_only = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
    command = dbt_command(["build", "--select", *SAME_ANALYSIS, *models_only])
    env = {
        **dbt_environment(Path(DBT_WAREHOUSE_NAME)),
        extract_path_env("bank_scrooge"): str(Path(extract).absolute()),
        **(dbt_env or {}),
    }
    saved = Path(dbt_env["DBT_TARGET_PATH"]) / "partial_parse.msgpack" if dbt_env else None
    before = _file_state(saved) if saved else None
    try:
        with dbt_warehouse(warehouse) as scratch:
            stage = _peak_of(command, env=env, cwd=scratch)
        if saved:
            stage["saved_parse_reused"] = before is not None and _file_state(saved) == before
        return stage
    finally:
        for leftover in (warehouse, warehouse.with_name(warehouse.name + ".wal")):
            leftover.unlink(missing_ok=True)


def spark_build(extract: Path, folder: Path) -> dict[str, Any]:
    """`metanprom spark-build` on `extract` (every model and test; the Python steps) on a local Spark of all the
    machine's cores, its tables and metastore under `folder` (removed afterwards)."""
    env = {
        extract_path_env("bank_scrooge"): str(extract),
        "METANPROM_SPARK_DIR": str(folder / "spark"),
        "DBT_TARGET_PATH": str(folder / "target"),
        "DBT_LOG_PATH": str(folder / "logs"),
    }
    try:
        return _peak_of([str(Path(sys.executable).parent / "metanprom"), "spark-build"], env=env)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def ratios(result: dict[str, Any]) -> dict[str, float]:
    stages, detail = result["stages"], result["pipeline"]
    floor = stages["floor (DuckDB alone)"]
    build = detail["seconds"].get("dbt build", float("nan"))
    return {
        # both timed inside their process, around the work (no interpreter start-up on either side)
        "dbt build / floor": build / floor["inner_seconds"],
        # both wall time of their whole process
        "whole pipeline / floor": stages["metanprom run"]["seconds"] / floor["seconds"],
        "pandas baseline / same analysis": stages["pandas baseline"]["seconds"]
        / stages[STAGE_SAME_ANALYSIS]["seconds"],
        # reported beside the target, which is judged against pandas
        "Polars baseline / same analysis": stages["Polars baseline"]["seconds"]
        / stages[STAGE_SAME_ANALYSIS]["seconds"],
        "peak GiB": max(stages[name]["peak_mib"] for name in stages if name not in (*PEERS, STAGE_SPARK)) / 1024,
    }


def _cpu_cells(seconds: float, cpu_seconds: float | None) -> str:
    """The CPU seconds and cores-busy cells of a row (empty where a step's CPU time is not told apart)."""
    if cpu_seconds is None:
        return " | "
    return f"{cpu_seconds:.1f} | {cpu_seconds / seconds:.2f}" if seconds > 0 else f"{cpu_seconds:.1f} | "


def _verdict(value: float, target: tuple[str, float]) -> str:
    comparison, bound = target
    met = value <= bound if comparison == "<=" else value >= bound
    return f"{'met' if met else 'missed'} ({comparison} {bound:g})"


def markdown(results: list[dict[str, Any]], info: dict[str, Any]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Produced by `metanprom bench` (python/metanprom/devtools/bench.py); regenerate with",
        f"`.venv/bin/metanprom bench --sizes {' '.join(str(r['rows']) for r in results)}`. Do not edit by hand.",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory']}; Python {info['python']}, "
        f"DuckDB {info['duckdb']}; {info['platform']}; {info['date']}. DuckDB's memory limit in every stage "
        f"(floor, run, same analysis): {info.get('duckdb_memory_limit', 'DuckDB default')} "
        "(`$METANPROM_DUCKDB_MEMORY_LIMIT`).",
        "",
        "Each stage is its own process; its peak memory is the larger of its process tree's summed resident",
        "memory (sampled every 0.2 s: stages running side by side add up) and its largest single process's",
        "high-water mark.",
        "The pipeline is `metanprom run` on one generated current-format extract of that size (the older",
        "format stays the shipped 10,000-row sample): input checks and the raw Great Expectations gate, then",
        "`dbt build` of every seed, model (SQL and Python: correlations, clusters, segment tests, hypotheses),",
        "and data test (not the unit tests: CI runs them) into a new file, the mart gate with the exports",
        "(Hyper, Parquet, CSV) and the two reports made beside it, then the swaps. The same-analysis stage is",
        "`dbt build` (models only, start-up included, a fresh file; dbt reuses the run's parse of the project, as a",
        "second build of an unchanged project does) of what the pandas baseline computes: "
        + ", ".join(f"`{m}`" for m in SAME_ANALYSIS)
        + ".",
        "Each size's dbt stages keep dbt's target and log folders in a new folder of their own: the first",
        "`metanprom run` parses the whole project, as a user's first run does; "
        f"`{STAGE_RUN_AGAIN}` (sizes up to {REPEAT_MAX_ROWS:,} rows)",
        "runs it once more on the same extract, on the parse the first run saved, as every later run does.",
        "",
        "Each ratio compares figures measured the same way: `dbt build ÷ floor` divides the dbt build's",
        "time inside `metanprom run` by the floor's time inside its process (both around the work, without",
        "interpreter start-up); `whole pipeline ÷ floor` divides wall times of whole processes; the baseline and",
        "the same-analysis stage are both wall times of whole processes, start-up included.",
        "The baselines (pandas, and the same code on Polars; `metanprom.devtools.baseline`) compute the figures",
        "the same-analysis stage builds (portrait, churn by feature, segment counts, every hypothesis test with",
        "its trimmed rerun and Holm's adjustment); test_baseline checks them against the marts.",
        "",
        "`CPU seconds` is user and system time of the stage's process and every process it waited for (dbt,",
        "DuckDB's and Hyper's threads and Hyper's server included; the steps of the run: of the run's process while",
        "the step ran, the gates' of their own process; the mart gate's step runs beside the exports and reports, so",
        "the steps' seconds may add up to more than the run's). `cores busy` is CPU seconds per second of wall",
        "time: a stage near the machine's",
        f"{info['cores']} cores worked all the time on every core, so running its parts side by side or in another",
        "order cannot make it faster, only less work can; a stage near 1 ran on one core.",
        "",
        "| rows | stage | seconds | CPU seconds | cores busy | peak MiB |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        for name, stage in r["stages"].items():
            cells = _cpu_cells(stage["seconds"], stage.get("cpu_seconds"))
            lines.append(f"| {r['rows']:,} | {name} | {stage['seconds']:.1f} | {cells} | {stage['peak_mib']:.0f} |")
        cpu = r["pipeline"].get("cpu_seconds", {})
        for name, seconds in r["pipeline"]["seconds"].items():
            lines.append(f"| {r['rows']:,} | · run: {name} | {seconds:.1f} | {_cpu_cells(seconds, cpu.get(name))} | |")
    parses = [
        (r["rows"], name, stage["dbt_parse"])
        for r in results
        for name, stage in r["stages"].items()
        if "dbt_parse" in stage
    ]
    if parses:
        lines += [
            "",
            "dbt's parse of the project in each `metanprom run` (dbt's perf_info.json): the files it read of the",
            "project's, and its seconds.",
            "",
            "| rows | stage | files parsed | of | parse seconds |",
            "|---:|---|---:|---:|---:|",
        ]
        for rows, name, parse in parses:
            lines.append(f"| {rows:,} | {name} | {parse['files_parsed']} | {parse['files']} | {parse['seconds']:.1f} |")
    reused = {r["rows"]: r["stages"][STAGE_SAME_ANALYSIS].get("saved_parse_reused") for r in results}
    if any(value is not None for value in reused.values()):
        lines += [
            "",
            "The same-analysis stage (`dbt build`, which reports no parse) reused the run's saved parse: "
            + "; ".join(f"{rows:,} rows: {'yes' if value else 'no'}" for rows, value in reused.items())
            + " (dbt left partial_parse.msgpack as it was, which it rewrites whenever it parses a file again).",
        ]
    lines += [
        "",
        "## Ratios",
        "",
        "| rows | dbt build ÷ floor | whole pipeline ÷ floor | pandas baseline ÷ same analysis "
        "| Polars baseline ÷ same analysis | peak GiB |",
    ]
    lines.append("|---:|---:|---:|---:|---:|---:|")
    for r in results:
        q = ratios(r)
        lines.append(
            f"| {r['rows']:,} | {q['dbt build / floor']:.1f} | {q['whole pipeline / floor']:.1f} | "
            f"{q['pandas baseline / same analysis']:.2f} | {q['Polars baseline / same analysis']:.2f} | "
            f"{q['peak GiB']:.2f} |"
        )
    largest = results[-1]
    q = ratios(largest)
    lines += ["", f"## Targets at {largest['rows']:,} rows", "", "| measure | value | target |", "|---|---:|---|"]
    for name, target in TARGETS.items():
        lines.append(f"| {name} | {q[name]:.2f} | {_verdict(q[name], target)} |")
    lines.append(
        f"| floor inside its process, seconds | {largest['stages']['floor (DuckDB alone)']['inner_seconds']:.2f} | |"
    )
    small = [r for r in results if r["rows"] <= 10_000]
    if small:
        for name, label in (("metanprom run", "metanprom run"), (STAGE_RUN_AGAIN, "metanprom run again")):
            if name in small[-1]["stages"]:
                seconds = small[-1]["stages"][name]["seconds"]
                lines.append(
                    f"| {label} at {small[-1]['rows']:,} rows, seconds | {seconds:.1f} | "
                    f"{_verdict(seconds, ('<=', SMALL_RUN_TARGET_SECONDS))} |"
                )
    if len(results) >= 2:
        a, b = results[-2], results[-1]
        lines += ["", f"Growth from {a['rows']:,} to {b['rows']:,} rows (×{b['rows'] / a['rows']:.0f} the rows):", ""]
        for name in ("metanprom run", STAGE_SAME_ANALYSIS, "floor (DuckDB alone)", *PEERS):
            growth = b["stages"][name]["seconds"] / a["stages"][name]["seconds"]
            lines.append(f"- {name}: ×{growth:.1f}")
        build_growth = b["pipeline"]["seconds"]["dbt build"] / a["pipeline"]["seconds"]["dbt build"]
        lines.append(f"- dbt build inside the run: ×{build_growth:.1f}")
    with_spark = [r for r in results if STAGE_SPARK in r["stages"]]
    if with_spark:
        lines += SPARK_SECTION_HEAD
        for r in with_spark:
            spark_seconds, build = r["stages"][STAGE_SPARK]["seconds"], r["pipeline"]["seconds"]["dbt build"]
            lines.append(
                f"| {r['rows']:,} | {spark_seconds:.1f} | {r['stages'][STAGE_SPARK]['peak_mib']:.0f} | {build:.1f} | "
                f"{spark_seconds / build:.1f} |"
            )
        lines += SPARK_ON_A_CLUSTER
    lines += ["", f"## Where dbt's time goes at {largest['rows']:,} rows (slowest nodes)", ""]
    totals = largest["pipeline"].get("dbt_totals", {})
    if totals:
        lines.append(
            "Summed over dbt's nodes (2 threads run them, so the sum exceeds the build's wall time): "
            + "; ".join(f"{kind} {t['nodes']:.0f} nodes, {t['seconds']:.1f} s" for kind, t in sorted(totals.items()))
            + "."
        )
        lines.append("")
    lines += ["| node | seconds |", "|---|---:|"]
    for node, seconds in largest["pipeline"].get("dbt_nodes", [])[:20]:
        lines.append(f"| {node} | {seconds:.1f} |")
    lines += [
        "",
        "The raw Great Expectations gate (`· run: quality gates: raw`) runs in a process of its own while dbt",
        "loads and parses the project (that parse is counted in `· run: dbt build`);",
        "dbt builds once it passed, and `stg_quality__raw_checks` only reads its results.",
    ]
    return "\n".join(lines) + "\n"


def main(sizes: list[int], out_dir: Path, work_dir: Path | None = None, spark: bool = False) -> Path:
    info = machine()
    results = []
    work = Path(work_dir or tempfile.mkdtemp(prefix="metanprom-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    # every stage's process inherits the budget, and writes its exports and reports into the scratch folder,
    # never over a user's output/
    scoped = {MEMORY_LIMIT_ENV: MEMORY_BUDGET, OUTPUT_ENV: str(work / "output")}
    try:
        with scoped_environment(scoped):
            for rows in sizes:
                print(f"bench: {rows:,} rows ...", flush=True)
                result = bench_size(rows, work, spark=spark)
                results.append(result)
                figures = ratios(result)
                width = max(map(len, [*result["stages"], *figures])) + 2  # stage names in one column, however long
                for name, stage in result["stages"].items():
                    print(
                        f"  {name:<{width}}{stage['seconds']:>9.1f} s{stage['cpu_seconds']:>9.1f} CPU s"
                        f"{stage['peak_mib']:>9.0f} MiB",
                        flush=True,
                    )
                for name, value in figures.items():
                    print(f"  {name:<{width}}{value:>9.2f}", flush=True)
                for leftover in work.glob(f"*_{rows}.*"):
                    leftover.unlink()
    finally:
        if work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "benchmarks.json"
    json_path.write_text(json.dumps({"machine": info, "results": results}, indent=1) + "\n", encoding="utf-8")
    md_path = out_dir / "BENCHMARKS.md"
    md_path.write_text(markdown(results, info), encoding="utf-8")
    print(f"bench: wrote {md_path} and {json_path}")
    return md_path


DEFAULT_OUT = PROJECT_DIR
