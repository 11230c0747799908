"""The benchmark: the whole pipeline at several sizes, beside DuckDB's floor and a pandas baseline.

    metanprom bench --sizes 10000 1000000 10000000

For each size it generates a current-format extract with the project's
generator, then runs, each as its own process (so its peak memory is its
own): the floor (DuckDB alone: read the CSV into a table, one aggregate over
all columns), the pandas baseline (`metanprom.baseline`), the pipeline
(`metanprom run` on the extract: input checks, dbt build with every model,
Python model and test, quality gates and exports as far as `run` does them)
and the hypotheses read back from the warehouse (`metanprom hypotheses`).
Wall time and peak memory per stage go to a JSON file and BENCHMARKS.md,
with the machine they came from and where dbt's time went per model.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from metanprom.settings import PROJECT_DIR

FLOOR_SQL = """
import duckdb, sys, time
t = time.perf_counter()
con = duckdb.connect()
con.execute("set enable_progress_bar = false")
con.execute(f"create table t as select * from read_csv('{sys.argv[1]}', header = true)")
con.execute("select count(*), min(columns(*)), max(columns(*)) from t").fetchall()
print(time.perf_counter() - t)
"""


def _peak_of(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a command; its wall time and its peak resident memory in MiB (its own and its children's, by wait4)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{stderr[-3000:]}")
    return {"seconds": seconds, "peak_mib": usage.ru_maxrss / 1024, "stdout": stdout}


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
    }


def bench_size(rows: int, work: Path, seed: int = 0) -> dict[str, Any]:
    """Every stage at one size."""
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
    stages["pandas baseline"] = _peak_of([python, "-m", "metanprom.baseline", str(extract)])
    stages["metanprom run"] = _peak_of(
        [metanprom, "run", "--bank-scrooge", str(extract), "--warehouse", str(warehouse), "--timings", str(timings)]
    )
    stages["hypotheses (read back)"] = _peak_of([metanprom, "hypotheses", "--warehouse", str(warehouse)])
    detail = json.loads(timings.read_text(encoding="utf-8"))
    for item in stages.values():
        item.pop("stdout", None)
    return {"rows": rows, "extract_bytes": extract.stat().st_size, "stages": stages, "pipeline": detail}


def ratios(result: dict[str, Any]) -> dict[str, float]:
    stages, detail = result["stages"], result["pipeline"]
    floor = stages["floor (DuckDB alone)"]["seconds"]
    build = detail["seconds"].get("dbt build", float("nan"))
    return {
        "dbt build / floor": build / floor,
        "whole pipeline / floor": stages["metanprom run"]["seconds"] / floor,
        "pandas baseline / dbt build": stages["pandas baseline"]["seconds"] / build,
    }


def markdown(results: list[dict[str, Any]], info: dict[str, Any]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Produced by `metanprom bench` (python/metanprom/bench.py); regenerate with",
        f"`.venv/bin/metanprom bench --sizes {' '.join(str(r['rows']) for r in results)}`. Do not edit by hand.",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory']}; Python {info['python']}, "
        f"DuckDB {info['duckdb']}; {info['platform']}; {info['date']}.",
        "",
        "Each stage is its own process; peak memory is its resident high-water mark (children included).",
        "The pipeline is `metanprom run` on one generated current-format extract of that size (the older",
        "format stays the shipped 10,000-row sample): input checks, then `dbt build` of every seed, model",
        "(SQL and Python: correlations, clusters, segment tests, hypotheses) and data test, then the swap.",
        "",
        "| rows | stage | seconds | peak MiB |",
        "|---:|---|---:|---:|",
    ]
    for r in results:
        for name, stage in r["stages"].items():
            lines.append(f"| {r['rows']:,} | {name} | {stage['seconds']:.1f} | {stage['peak_mib']:.0f} |")
        for name, seconds in r["pipeline"]["seconds"].items():
            lines.append(f"| {r['rows']:,} | · run: {name} | {seconds:.1f} | |")
    lines += [
        "",
        "## Ratios",
        "",
        "| rows | dbt build ÷ floor | whole pipeline ÷ floor | pandas baseline ÷ dbt build |",
    ]
    lines.append("|---:|---:|---:|---:|")
    for r in results:
        q = ratios(r)
        lines.append(
            f"| {r['rows']:,} | {q['dbt build / floor']:.1f} | {q['whole pipeline / floor']:.1f} | "
            f"{q['pandas baseline / dbt build']:.2f} |"
        )
    if len(results) >= 2:
        a, b = results[-2], results[-1]
        growth = b["stages"]["metanprom run"]["seconds"] / a["stages"]["metanprom run"]["seconds"]
        lines += [
            "",
            f"Growth of the pipeline from {a['rows']:,} to {b['rows']:,} rows: ×{growth:.1f} "
            f"for ×{b['rows'] / a['rows']:.0f} the rows.",
        ]
    largest = results[-1]
    lines += ["", f"## Where dbt's time goes at {largest['rows']:,} rows (slowest nodes)", ""]
    lines += ["| node | seconds |", "|---|---:|"]
    for node, seconds in largest["pipeline"].get("dbt_nodes", [])[:15]:
        lines.append(f"| {node} | {seconds:.1f} |")
    return "\n".join(lines) + "\n"


def main(sizes: list[int], out_dir: Path, work_dir: Path | None = None) -> Path:
    info = machine()
    results = []
    work = Path(work_dir or tempfile.mkdtemp(prefix="metanprom-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        for rows in sizes:
            print(f"bench: {rows:,} rows ...", flush=True)
            result = bench_size(rows, work)
            results.append(result)
            for name, stage in result["stages"].items():
                print(f"  {name:<26}{stage['seconds']:>9.1f} s{stage['peak_mib']:>9.0f} MiB", flush=True)
            for name, value in ratios(result).items():
                print(f"  {name:<26}{value:>9.2f}", flush=True)
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
