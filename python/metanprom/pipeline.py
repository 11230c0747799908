"""The main job: check the inputs, build the warehouse with dbt into a new file, swap it in.

A failed run never touches the warehouse that was there before: dbt builds
into a new file beside it (`metanprom_building_<hash>.duckdb`), which
replaces the old file only once every
model and test and both quality gates have passed. The raw-extract gate runs
first; dbt runs in this process through its programmatic interface
(`dbtRunner`), and its failures are read from its results, never its log.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metanprom.clock import Stopwatch
from metanprom.ingest.formats import FORMATS
from metanprom.ingest.gate_process import GateOutcome, GateProcess
from metanprom.ingest.gate_sql import UnreadableExtractError, is_uri
from metanprom.ingest.inputs import InputError, prepare_input
from metanprom.settings import (
    PROJECT_DIR,
    QUALITY_RESULTS_ENV,
    WAREHOUSE_ENV,
    extract_path_env,
    scoped_environment,
    warehouse_path,
)

#: The dbt targets a run builds on (profiles.yml): DuckDB, the default, and Apache Spark.
TARGETS = ("dev", "spark")


class PipelineError(RuntimeError):
    """A step failed; the message says which and why. The previous warehouse is intact."""


class QualityGateError(PipelineError):
    """A data-quality check of severity error failed."""


class NotSwappedIn(PipelineError):
    """Raised by a SwapVerdict to what runs beside the mart gate: the new warehouse is not swapped in, so neither
    is anything made from it."""


class SwapVerdict:
    """Whether the new warehouse is swapped in, for what `build` runs beside the mart gate (`beside_mart_gate`):
    `wait` blocks until the run knows, and returns once the new warehouse has replaced the old, or raises
    NotSwappedIn; `check` raises NotSwappedIn at once if the run already knows it will not be, else returns."""

    def __init__(self) -> None:
        self._known = threading.Event()
        self._swapped = False

    def swapped(self) -> None:
        self._swapped = True
        self._known.set()

    def not_swapped(self) -> None:
        self._known.set()

    def check(self) -> None:
        if self._known.is_set() and not self._swapped:
            raise NotSwappedIn("the new warehouse was not swapped in (the run failed)")

    def wait(self) -> None:
        self._known.wait()
        self.check()


@dataclass
class RunResult:
    """What a run built and how long each step took."""

    warehouse: Path
    seconds: dict[str, float] = field(default_factory=dict)
    #: CPU seconds per step (clock.cpu_seconds: every thread of this process and the child processes it waited for)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    dbt_nodes: list[tuple[str, float]] = field(default_factory=list)
    dbt_totals: dict[str, dict[str, float]] = field(default_factory=dict)
    quality: list[object] = field(default_factory=list)
    #: what ran beside the mart gate (`build(beside_mart_gate=...)`), once the new warehouse was swapped in: its
    #: `result()` gives what it returned, or raises what it raised; None where nothing ran beside it
    beside: Future | None = None

    def timings(self) -> dict[str, object]:
        """Wall and CPU seconds per step and dbt's slowest nodes, for the benchmark."""
        return {
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "dbt_nodes": self.dbt_nodes,
            "dbt_totals": self.dbt_totals,
        }

    def record(self, step: str, watch: Stopwatch) -> None:
        """The wall and CPU seconds `watch` has run, as `step`'s."""
        self.seconds[step], self.cpu_seconds[step] = watch.wall(), watch.cpu()


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's virtual environment)."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def dbt_command(args: list[str], dbt_vars: dict[str, object] | None = None) -> list[str]:
    """The command line of one dbt command on this project (its own profiles.yml)."""
    command = [dbt_executable(), *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    return command


#: The main job's dbt build: every seed, model and data test, not the unit tests. Their inputs and expected rows are
#: fixed in the properties files, so their outcome does not depend on the extract: they run where the code changes
#: (a developer's `dbt build`, and CI: test_pipeline runs them on the shipped warehouse), as dbt Labs recommends for
#: production builds. In the run they cost ~0.4 s each and hold back the model they test (~3 s at 10,000 rows).
MAIN_BUILD = ["build", "--exclude-resource-type", "unit_test"]
#: The environment variable that sends dbt's log elsewhere than the project's logs/.
DBT_LOG_PATH_ENV = "DBT_LOG_PATH"


def dbt_log() -> Path:
    """dbt's full log of every command, which a failure points to: dbt.log in $DBT_LOG_PATH (a relative folder read
    from the working directory, as dbt reads it), else in the project's logs/."""
    folder = os.environ.get(DBT_LOG_PATH_ENV)
    return (Path(folder).absolute() if folder else PROJECT_DIR / "logs") / "dbt.log"


def dbt_environment(warehouse: Path) -> dict[str, str]:
    """What dbt needs in its environment on top of ours: the warehouse file, no usage statistics."""
    return {WAREHOUSE_ENV: str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


class DbtFailure(PipelineError):
    """dbt failed: the message names every node that failed and why."""


#: The DuckDB file's name as dbt sees it. dbt re-parses the whole project (seconds) whenever its profile
#: changes, and the profile holds the DuckDB path: dbt always opens this one relative name, in a scratch
#: folder where the name links to the real file, so that any warehouse reuses the last parse.
DBT_WAREHOUSE_NAME = "warehouse.duckdb"


@contextlib.contextmanager
def dbt_warehouse(warehouse: Path) -> Iterator[Path]:
    """A scratch folder where DBT_WAREHOUSE_NAME links to `warehouse` (created by DuckDB if absent); removed after.

    Run dbt from that folder with the path DBT_WAREHOUSE_NAME. The folder is made beside the warehouse, so that
    DuckDB's spill files (`<name>.tmp`) go where they would for the file itself; its plain relative name also
    spares dbt-duckdb the characters it misreads in a path (`#`, `?`, quotes).

    An existing file is linked by a hard link: DuckDB opens a symbolic link to an existing file under the
    target's name, so its catalog would be named after the warehouse, not the name dbt expects. A file yet to
    be made can only be a symbolic link, which DuckDB follows to create the file (and names the catalog after
    the link)."""
    warehouse = Path(warehouse).absolute()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".metanprom-dbt-", dir=warehouse.parent))
    try:
        if warehouse.exists():
            if warehouse.with_name(warehouse.name + ".wal").exists():
                import duckdb

                duckdb.connect(str(warehouse)).close()  # its log replayed into the file: the link has no log
            os.link(warehouse, scratch / DBT_WAREHOUSE_NAME)
        else:
            (scratch / DBT_WAREHOUSE_NAME).symlink_to(warehouse)
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_dbt(
    args: list[str],
    warehouse: Path,
    dbt_vars: dict[str, object] | None = None,
    env: dict[str, str] | None = None,
    before_build: Callable[[], None] | None = None,
) -> list[NodeResult]:
    """Run one dbt command on this project, in this process, against `warehouse`; return every node's result.

    `env`: environment variables for this command only (the extract paths: unlike `--vars`, a new value
    re-parses nothing, as the macros read them only when a model runs); paths in it must be absolute (dbt runs
    from a scratch folder, `dbt_warehouse`). `before_build`: dbt parses the project first (`dbt parse`, which
    opens no database), then this is called (the run waits there for its raw gate; what it raises stops the
    command before anything is built), then the command runs on that parse (dbt's documented reuse of a
    manifest, `dbtRunner(manifest=...)`). Raises DbtFailure naming each node that errored or failed (dbt's
    full log: `dbt_log()`).
    """
    from dbt.cli.main import dbtRunner

    options = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--quiet"]
    if dbt_vars:
        options += ["--vars", json.dumps(dbt_vars)]
    log_file = dbt_log()
    # dbt runs from the scratch folder, which goes afterwards: a relative log folder is made absolute first
    log_folder = {DBT_LOG_PATH_ENV: str(log_file.parent)} if os.environ.get(DBT_LOG_PATH_ENV) else {}
    with dbt_warehouse(warehouse) as scratch, contextlib.chdir(scratch):
        try:
            with scoped_environment({**dbt_environment(Path(DBT_WAREHOUSE_NAME)), **log_folder, **(env or {})}):
                runner = dbtRunner()
                if before_build is not None:
                    parsed = runner.invoke(["parse", *options])
                    if not parsed.success:
                        raise DbtFailure(f"dbt parse failed (full log: {log_file}): {parsed.exception}")
                    before_build()
                    runner = dbtRunner(manifest=parsed.result)
                outcome = runner.invoke([*args, *options])
        finally:
            _close_dbt_duckdb()  # before the scratch folder goes: DuckDB checkpoints its log on closing
    results = [
        NodeResult(r.node.unique_id, str(r.status), float(r.execution_time or 0), r.message)
        for r in getattr(outcome.result, "results", None) or []
    ]
    if not outcome.success:
        failed_rules = _failed_rules(getattr(outcome.result, "results", None) or [], warehouse)
        failed = [r for r in results if r.status in ("error", "fail")]
        detail = "\n".join(
            f"  {r.unique_id}: {r.status}: {r.message}{failed_rules.get(r.unique_id, '')}" for r in failed
        )
        if outcome.exception is not None:
            detail += f"\n  {type(outcome.exception).__name__}: {outcome.exception}"
        raise DbtFailure(f"dbt {args[0]} failed (full log: {log_file}):\n{detail.strip(chr(10))}")
    return results


def _failed_rules(node_results: list[Any], warehouse: Path) -> dict[str, str]:
    """For each failed column_rules test (one query for the tests that read its model alone), its failing rules:
    each by its own test's name, with what that test counts, read by running the test's query again on the
    warehouse; and how to see their rows (each as a test of its own, a selection of one's own)."""
    import duckdb

    from metanprom.sqltext import sql_string

    listed = {}
    for result in node_results:
        node = result.node
        metadata = getattr(node, "test_metadata", None)
        if str(result.status) != "fail" or metadata is None or metadata.name != "column_rules":
            continue
        model = node.attached_node.split(".")[-1]
        try:
            with duckdb.connect() as connection:
                catalog = Path(DBT_WAREHOUSE_NAME).stem  # the name dbt's queries give the warehouse
                connection.execute(f"attach {sql_string(warehouse)} as {catalog} (read_only)")
                rows = connection.execute(node.compiled_code).fetchall()
            rules = "".join(f"\n    {rule}: {failures}" for rule, _, failures in rows)
        except duckdb.Error as error:  # the command below still names them
            rules = f"\n    (its rules could not be listed: {error})"
        how = f"\n    (each with its rows: dbt test --select {model})"
        listed[node.unique_id] = f"; its failing rules, each with its own test's count:{rules}{how}"
    return listed


def _close_dbt_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a command.

    dbt-duckdb holds one environment per process (`DuckDBConnectionManager._ENV`) past the end of an
    invocation; its `close_all_connections` only drops the reference. Left open, the warehouse cannot be
    opened again here with another configuration (the mart gate opens it read-only), nor moved cleanly.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    DuckDBConnectionManager.close_all_connections()
    if environment is not None:
        environment.close()


@dataclass(frozen=True)
class NodeResult:
    """One dbt node's outcome: its id, status (success, pass, warn, error, fail, skipped), seconds and message."""

    unique_id: str
    status: str
    seconds: float
    message: str | None


def _node_timings(
    results: list[NodeResult], keep: int = 25
) -> tuple[list[tuple[str, float]], dict[str, dict[str, float]]]:
    """dbt's `keep` slowest nodes, and node count and summed seconds per resource type (model, test, ...)."""
    nodes = sorted(((r.unique_id, r.seconds) for r in results), key=lambda n: -n[1])
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
    dbt_target: str = "dev",
    beside_mart_gate: Callable[[Path, Path, SwapVerdict], object] | None = None,
    when_building: Callable[[], None] | None = None,
) -> RunResult:
    """Build every model and run every dbt test into a fresh file, then swap it in as `warehouse`.

    `beside_mart_gate(built, warehouse, verdict)`, on DuckDB: called in a thread of its own with the new file
    (by a second name that the swap leaves in place, `_beside`) once dbt has built it, while the mart gate checks
    it, and given the path it is swapped in at and a SwapVerdict. It may read the new file, and must swap in
    nothing it makes of it before `verdict.wait()` has returned (that raises if the run fails: the gate, or the
    swap). On a failure the run waits for it to end before the new file goes; on success its outcome is
    `RunResult.beside`. It is not called on Spark (the marts are copied into the new file after the gate), nor
    where the file system makes no hard link: `RunResult.beside` is then None.

    `when_building()`: called once the raw gate has passed, as dbt starts building (on either target), to start
    what the delivery will need while the build runs (the run's report process).

    `inputs` maps an extract format to a user's file, or None for the shipped seed. `dbt_target`: the dbt target
    that builds (profiles.yml): `dev`, DuckDB, into the new file itself; `spark`, Apache Spark (`metanprom
    spark-build`: dbt with the Python step), whose public marts are then copied into the new file, so the
    mart gate, the swap, the exports and the report are the same on both.
    """
    if dbt_target not in TARGETS:
        raise PipelineError(f"unknown target {dbt_target!r}: metanprom builds on {', '.join(TARGETS)} (profiles.yml)")
    target = (Path(warehouse) if warehouse else warehouse_path()).absolute()  # dbt runs from another folder
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
    dbt_env: dict[str, str] = {}
    prepared_dir = target.parent / ".inputs"
    watch = Stopwatch()
    on_spark = dbt_target == "spark"
    for name in FORMATS:
        path = inputs.get(name)
        if path is None:
            result.inputs[name] = "shipped sample (seeds/)"
            continue
        if is_uri(path):
            if not on_spark:
                raise InputError(
                    f"{path}: a URI is read by Spark where it lies; run with --target spark, or give a local file"
                )
            # read by Spark in place: no local copy to normalise; the raw gate on Spark checks its header
            dbt_env[extract_path_env(name)] = str(path)
            result.inputs[name] = f"{path} (read by Spark in place)"
            continue
        prepared = prepare_input(Path(path), name, prepared_dir)
        dbt_env[extract_path_env(name)] = str(prepared.path.absolute())
        result.inputs[name] = str(path) + (f" ({'; '.join(prepared.notes)})" if prepared.notes else "")
    result.record("check inputs", watch)

    # Gate 1: Great Expectations on the raw extracts. dbt builds once they passed; the one model that
    # reports their results (stg_quality__raw_checks) reads the file they were written to. On DuckDB both
    # gates run in a process of their own (gate_process), which loads Great Expectations and checks the
    # extracts while dbt loads and parses the project here; on Spark, here, before dbt.
    from metanprom.ingest import check_results

    files = {name: dbt_env.get(extract_path_env(name)) or PROJECT_DIR / "seeds" / f"{name}.csv" for name in FORMATS}
    checks_file = prepared_dir / "raw_checks.json"
    dbt_env[QUALITY_RESULTS_ENV] = str(checks_file)
    log(f"checking the raw extracts{' on Spark' if on_spark else ''} ...")
    raw_rows: dict[str, int] = {}

    def raw_gate(outcome: Callable[[], GateOutcome], watch: Stopwatch, came_back: list[float] | None = None) -> None:
        """Wait for the raw gate's results; stop the run on an error, else write them for dbt. `came_back`: the
        seconds on `watch` when the results arrived, if this process was busy then."""
        try:
            gate = outcome()
        except UnreadableExtractError as error:
            raise QualityGateError(str(error)) from error
        raw_results, rows = gate.value
        result.quality += raw_results
        raw_rows.update(rows)
        result.record("quality gates: raw", watch)
        if came_back:
            result.seconds["quality gates: raw"] = came_back[0]
        if gate.cpu_seconds is not None:  # the gate process's, not this one's while it waited
            result.cpu_seconds["quality gates: raw"] = gate.cpu_seconds
        errors = check_results.failed(raw_results, "error")
        if errors:
            raise QualityGateError("raw-extract checks failed:\n" + check_results.results_text(errors))
        check_results.write_results(raw_results, checks_file)
        log(f"  raw extracts checked in {result.seconds['quality gates: raw']:.1f} s")

    building = target.with_name(f"metanprom_building_{hashlib.sha256(target.name.encode()).hexdigest()[:8]}.duckdb")
    verdict = SwapVerdict()
    beside: Future | None = None
    for leftover in (building, building.with_name(building.name + ".wal"), _reading_link(building)):
        leftover.unlink(missing_ok=True)
    try:
        if on_spark:
            from metanprom.ingest import quality

            watch = Stopwatch()
            gx_context = quality.gx_context(None)
            engine = _spark_gate(dbt_vars, dbt_env)
            raw_gate(lambda: GateOutcome(quality.check_raw(files, context=gx_context, engine=engine), None), watch)
            gc.collect()  # the gate's frames (every row's numbers) sit in reference cycles: free them before dbt
            if when_building is not None:
                when_building()
            watch = Stopwatch()
            log("building on Spark (metanprom spark-build) ...")
            built = _build_on_spark(dbt_vars, dbt_env, log)
            result.record("dbt build", watch)
            log(f"  dbt build passed in {result.seconds['dbt build']:.1f} s")
            watch = Stopwatch()
            log("checking the public marts on Spark (Great Expectations) ...")
            mart_results = _spark_mart_gate(built, raw_rows, gx_context)
            mart_cpu = None
        else:
            with GateProcess() as gates:
                watch = Stopwatch()
                raw_future = gates.check_raw(files)
                came_back: list[float] = []
                raw_future.add_done_callback(lambda _: came_back.append(watch.wall()))
                log("  loading dbt and parsing the project meanwhile ...")
                dbt_watch = Stopwatch()

                parse: list[float] = []

                def parsed() -> None:
                    nonlocal dbt_watch
                    if not raw_future.done():
                        # Load the statistics stack, which the build's Python models would load first, in time this
                        # process would spend waiting for the raw gate (~1 s at 10,000 rows). Counted in dbt build.
                        from metanprom.stack import load_statistics

                        load_statistics()
                    parse.extend((dbt_watch.wall(), dbt_watch.cpu()))
                    raw_gate(raw_future.result, watch, came_back)
                    if when_building is not None:
                        when_building()
                    log(f"building the warehouse with dbt build into {building.name} ...")
                    dbt_watch = Stopwatch()

                nodes = run_dbt(MAIN_BUILD, building, dbt_vars, dbt_env, before_build=parsed)
                result.record("dbt build", dbt_watch)
                # dbt's work is its parse (and the statistics stack's load, beside the raw gate) and its build; neither
                # is a step of its own, so the steps' seconds still add up to no more than the run's
                result.seconds["dbt build"] += parse[0]
                result.cpu_seconds["dbt build"] += parse[1]
                result.dbt_nodes, result.dbt_totals = _node_timings(nodes)
                log(f"  dbt build passed in {result.seconds['dbt build']:.1f} s")
                watch = Stopwatch()
                log("checking the public marts (Great Expectations) ...")
                mart_gate = gates.check_marts(building, raw_rows)
                if beside_mart_gate is not None:
                    # the gate works in its own process, the exports and reports here: at 10,000 rows the run's end
                    # (dbt's last node to the summary) took 3.0-3.3 s instead of 3.5-3.9 s one after the other
                    beside = _beside(beside_mart_gate, building, target, verdict)
                    if beside is not None:
                        gates.stop_with(beside)
                outcome = mart_gate.result()
                mart_results, mart_cpu = outcome.value, outcome.cpu_seconds
        # Gate 2 (run on either route above): Great Expectations on the public marts, where they were built,
        # before the new warehouse replaces the old.
        result.quality += mart_results
        result.record("quality gates: marts", watch)
        if mart_cpu is not None:
            result.cpu_seconds["quality gates: marts"] = mart_cpu
        errors = check_results.failed(mart_results, "error")
        if errors:
            raise QualityGateError("mart checks failed:\n" + check_results.results_text(errors))
        if on_spark:
            watch = Stopwatch()
            log(f"copying the public marts from Spark into {building.name} ...")
            _copy_from_spark(built, building)
            result.record("copy marts from Spark", watch)
    except BaseException:
        _not_swapped(verdict, beside)
        building.unlink(missing_ok=True)
        building.with_name(building.name + ".wal").unlink(missing_ok=True)
        raise
    try:
        os.replace(building, target)
    except BaseException:
        _not_swapped(verdict, beside)
        raise
    verdict.swapped()
    result.beside = beside
    return result


def _reading_link(building: Path) -> Path:
    """The second name of the new file that what runs beside the mart gate reads it by (`_beside`)."""
    return building.with_name(f"{building.stem}_reading{building.suffix}")


def _beside(
    work: Callable[[Path, Path, SwapVerdict], object], building: Path, target: Path, verdict: SwapVerdict
) -> Future | None:
    """`work(file, target, verdict)` started in a thread of its own, reading the new file by a second name (a hard
    link, `_reading_link`): the swap renames the new file, and whatever `work` opens by name after it must still
    find it there. The link goes when `work` ends. None where the file system makes no hard link: the run then
    makes nothing beside the gate (the caller delivers after the swap)."""
    reading = _reading_link(building)
    try:
        os.link(building, reading)
    except OSError:
        return None

    def run() -> object:
        try:
            return work(reading, target, verdict)
        finally:
            reading.unlink(missing_ok=True)

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="beside-mart-gate")
    future = pool.submit(run)
    pool.shutdown(wait=False)  # its thread ends with `work`; the run waits for that where it must
    return future


def _not_swapped(verdict: SwapVerdict, beside: Future | None) -> None:
    """Tell what runs beside the mart gate that the new warehouse is not swapped in, and wait for it to end (it
    reads the new file, which goes next); what it raised then is not the run's error."""
    verdict.not_swapped()
    if beside is not None:
        wait_for([beside])


def _spark_gate(dbt_vars: dict[str, object], dbt_env: dict[str, str]):
    """The raw gate's engine on the spark target: Spark, through the session dbt opens with the profile's
    settings (or the Thrift server)."""
    from metanprom.ingest.gate_sql import SparkGate
    from metanprom.spark_step import SparkError, open_sql

    try:
        with scoped_environment({**dbt_env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}):
            return SparkGate(open_sql(dbt_vars))
    except SparkError as error:
        raise DbtFailure(str(error)) from error


def _build_on_spark(dbt_vars: dict[str, object], dbt_env: dict[str, str], log: Callable[[str], None]):
    """The project built on Spark (seeds, SQL models, the Python steps, every data test; as MAIN_BUILD, not the unit
    tests). Raises DbtFailure naming what failed."""
    from metanprom.spark_step import SparkError, build_on_spark

    try:
        with scoped_environment({**dbt_env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}):
            built = build_on_spark(MAIN_BUILD[1:], log=lambda message: log(f"  {message}"), dbt_vars=dbt_vars)
    except SparkError as error:
        raise DbtFailure(str(error)) from error
    if built.left_out:
        raise DbtFailure(f"no Python step on Spark for {', '.join(built.left_out)}: nothing was swapped in")
    return built


def _spark_mart_gate(built, raw_rows: dict[str, int], gx_context) -> list:
    """The mart gate on the marts a Spark build made, read where they are."""
    from metanprom.ingest import quality
    from metanprom.ingest.gate_sql import SparkGate
    from metanprom.spark_step import connect, mart_relations

    return quality.check_marts(
        None, raw_rows, context=gx_context, engine=SparkGate(connect(), mart_relations(built.manifest))
    )


def _copy_from_spark(built, building: Path) -> None:
    """The public marts of a Spark build copied into `building`, for the exports and the report."""
    from metanprom.delivery.export import PUBLIC_MARTS
    from metanprom.spark_step import SparkError, copy_marts

    try:
        copy_marts(built, PUBLIC_MARTS, building)
    except SparkError as error:
        raise DbtFailure(str(error)) from error
