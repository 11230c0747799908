"""The main job: check the inputs, build the warehouse with dbt into a new file, swap it in.

A failed run never touches the warehouse that was there before: dbt builds
into a new file beside it (`metanprom_building_<hash>.duckdb`), which
replaces the old file only once every
model and test and both quality gates have passed. The raw-extract gate runs
beside dbt (a failure stops dbt and deletes the new file).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from metanprom.formats import FORMATS
from metanprom.inputs import InputError, prepare_input
from metanprom.settings import PROJECT_DIR, WAREHOUSE_ENV, warehouse_path

#: How long stg_quality__raw_checks waits for the raw gate's results (the gate runs beside dbt; a failed gate
#: stops dbt long before this).
RAW_GATE_WAIT_SECONDS = 3600


class PipelineError(RuntimeError):
    """A step failed; the message says which and why. The previous warehouse is intact."""


class QualityGateError(PipelineError):
    """A data-quality check of severity error failed."""


@dataclass
class RunResult:
    """What a run built and how long each step took."""

    warehouse: Path
    seconds: dict[str, float] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    dbt_nodes: list[tuple[str, float]] = field(default_factory=list)
    dbt_totals: dict[str, dict[str, float]] = field(default_factory=dict)
    quality: list[object] = field(default_factory=list)

    def timings(self) -> dict[str, object]:
        """Seconds per step and dbt's slowest nodes, for the benchmark."""
        return {"seconds": self.seconds, "dbt_nodes": self.dbt_nodes, "dbt_totals": self.dbt_totals}


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's virtual environment)."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


@dataclass
class DbtProcess:
    """A dbt command running in the background; `finish` waits for it and raises on failure."""

    args: list[str]
    process: subprocess.Popen[str]
    log_path: Path

    def finish(self) -> None:
        """Wait for dbt; raise PipelineError with its failures (and where the full log is) on error."""
        if self.process.wait() != 0:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
            failures = [
                line
                for line in lines
                if any(word in line for word in ("FAIL", "ERROR", "Error", "error:", "differs")) and "PASS=" not in line
            ]
            detail = "\n".join(failures[-25:]) or "\n".join(lines[-25:])
            raise PipelineError(f"dbt {self.args[0]} failed (full log: {self.log_path}):\n{detail}")

    def stop(self) -> None:
        """Stop dbt (when the run fails elsewhere) and wait until it has exited."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def dbt_command(args: list[str], dbt_vars: dict[str, object] | None = None) -> list[str]:
    """The command line of one dbt command on this project (its own profiles.yml)."""
    command = [dbt_executable(), *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    return command


def dbt_environment(warehouse: Path) -> dict[str, str]:
    """What dbt needs in its environment on top of ours: the warehouse file, no usage statistics."""
    return {WAREHOUSE_ENV: str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def start_dbt(args: list[str], warehouse: Path, dbt_vars: dict[str, object] | None = None) -> DbtProcess:
    """Start one dbt command against `warehouse` in the background; its output goes to logs/metanprom-dbt.log."""
    log_dir = PROJECT_DIR / "logs"
    log_dir.mkdir(exist_ok=True)
    log_path = log_dir / "metanprom-dbt.log"
    with open(log_path, "w", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            dbt_command(args, dbt_vars),
            cwd=PROJECT_DIR,
            env={**os.environ, **dbt_environment(warehouse)},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return DbtProcess(args=args, process=process, log_path=log_path)


def _node_timings(run_results: Path, keep: int = 25) -> tuple[list[tuple[str, float]], dict[str, dict[str, float]]]:
    """dbt's `keep` slowest nodes, and node count and summed seconds per resource type (model, test, ...)."""
    try:
        results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return [], {}
    nodes = sorted(((r["unique_id"], float(r["execution_time"])) for r in results), key=lambda n: -n[1])
    totals: dict[str, dict[str, float]] = {}
    for node, seconds in nodes:
        entry = totals.setdefault(node.split(".", 1)[0], {"nodes": 0, "seconds": 0.0})
        entry["nodes"] += 1
        entry["seconds"] += seconds
    return nodes[:keep], totals


def build(
    inputs: dict[str, str | os.PathLike[str] | None],
    warehouse: Path | None = None,
    log: Callable[[str], None] = print,
    extra_vars: dict[str, object] | None = None,
) -> RunResult:
    """Build every model and run every dbt test into a fresh file, then swap it in as `warehouse`.

    `inputs` maps an extract format to a user's file, or None for the shipped seed.
    """
    target = Path(warehouse) if warehouse else warehouse_path()
    if "?" in str(target):
        # DuckDB 2.0 reads a '?' in a database's path as the start of URL parameters: its write-ahead log
        # then goes to a folder that does not exist, and the build fails at its first commit
        raise InputError(
            f"{target}: DuckDB cannot keep a database at a path with a '?'; choose a warehouse path without one "
            f"(--warehouse or ${WAREHOUSE_ENV})"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    result = RunResult(warehouse=target)
    dbt_vars: dict[str, object] = dict(extra_vars or {})
    prepared_dir = target.parent / ".inputs"
    started = time.perf_counter()
    for name in FORMATS:
        path = inputs.get(name)
        if path is None:
            result.inputs[name] = "shipped sample (seeds/)"
            continue
        prepared = prepare_input(Path(path), name, prepared_dir)
        dbt_vars[f"{name}_path"] = str(prepared.path)
        result.inputs[name] = str(path) + (f" ({'; '.join(prepared.notes)})" if prepared.notes else "")
    result.seconds["check inputs"] = time.perf_counter() - started

    # Gate 1, Great Expectations on the raw extracts, runs beside `dbt build`: dbt builds into a new file
    # that replaces nothing until every gate has passed, and the one model that reports the gate's results
    # (stg_quality__raw_checks) waits for the file they are written to once the gate has passed.
    files = {name: Path(dbt_vars.get(f"{name}_path", PROJECT_DIR / "seeds" / f"{name}.csv")) for name in FORMATS}
    checks_file = prepared_dir / "raw_checks.json"
    checks_file.unlink(missing_ok=True)  # the model must wait for this run's results, never read an old file
    dbt_vars["quality_results_path"] = str(checks_file)
    dbt_vars["quality_results_wait_seconds"] = RAW_GATE_WAIT_SECONDS
    building = target.with_name(f"metanprom_building_{hashlib.sha256(target.name.encode()).hexdigest()[:8]}.duckdb")
    for leftover in (building, building.with_name(building.name + ".wal")):
        leftover.unlink(missing_ok=True)
    log(f"building the warehouse with dbt build into {building.name}, checking the raw extracts meanwhile ...")
    started = time.perf_counter()
    dbt_path, link_dir = _path_dbt_duckdb_reads(building)
    dbt = start_dbt(["build"], dbt_path, dbt_vars)
    try:
        from metanprom import quality  # pandas and Great Expectations load while dbt starts

        gx_context = quality._context(None)
        try:
            raw_results, raw_rows = quality.check_raw(files, context=gx_context)
        except quality.UnreadableExtractError as error:
            raise QualityGateError(str(error)) from error
        result.quality += raw_results
        result.seconds["quality gates: raw"] = time.perf_counter() - started
        errors = quality.failed(raw_results, "error")
        if errors:
            raise QualityGateError("raw-extract checks failed:\n" + quality.results_text(errors))
        quality.write_results(raw_results, checks_file)
        gc.collect()  # the gate's frames (every row's numbers) sit in reference cycles: free them before dbt peaks
        log(f"  raw extracts checked in {result.seconds['quality gates: raw']:.1f} s")

        dbt.finish()
        result.seconds["dbt build"] = time.perf_counter() - started
        result.dbt_nodes, result.dbt_totals = _node_timings(PROJECT_DIR / "target" / "run_results.json")
        log(f"  dbt build passed in {result.seconds['dbt build']:.1f} s")

        # Gate 2: Great Expectations on the public marts, before the new warehouse replaces the old.
        started = time.perf_counter()
        log("checking the public marts (Great Expectations) ...")
        mart_results = quality.check_marts(building, raw_rows, context=gx_context)
        result.quality += mart_results
        result.seconds["quality gates: marts"] = time.perf_counter() - started
        errors = quality.failed(mart_results, "error")
        if errors:
            raise QualityGateError("mart checks failed:\n" + quality.results_text(errors))
    except BaseException:
        dbt.stop()
        building.unlink(missing_ok=True)
        building.with_name(building.name + ".wal").unlink(missing_ok=True)
        raise
    finally:
        if link_dir is not None:
            shutil.rmtree(link_dir, ignore_errors=True)
    os.replace(building, target)
    return result


def _path_dbt_duckdb_reads(building: Path) -> tuple[Path, Path | None]:
    """The path to give dbt for `building`, and a scratch folder to remove afterwards.

    dbt-duckdb reads its `path` as a URL (a `#` or `?` cuts it) and pastes the catalog name into its own SQL
    unquoted (a quote breaks it), so a folder with such characters is reached through a symlink of a plain
    name; the file itself is created in that folder, beside the warehouse it will replace.
    """
    if re.fullmatch(r"[\w ./+,=@~-]*", str(building.parent)):
        return building, None
    link_dir = Path(tempfile.mkdtemp(prefix="metanprom-dbt-"))
    (link_dir / "warehouse").symlink_to(building.parent.resolve(), target_is_directory=True)
    return link_dir / "warehouse" / building.name, link_dir
