"""The main job end to end: dbt build on the shipped seeds and on the real extracts."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path

import duckdb
import pytest

from metanprom import pipeline
from metanprom.cli import main
from metanprom.delivery import deliver as deliver_module
from metanprom.delivery.report_process import ReportProcess
from metanprom.devtools.generator import INVALID_PRODUCTS_EVERY
from metanprom.ingest.check_results import CheckResult
from metanprom.ingest.gate_process import GateOutcome, GateProcess
from metanprom.ingest.inputs import InputError
from metanprom.settings import PROJECT_DIR
from metanprom.warehouse import connect

#: every test here builds a warehouse (or runs `metanprom run`)
pytestmark = pytest.mark.integration


def _one(warehouse: Path, sql: str):
    with connect(warehouse) as con:
        return con.execute(sql).fetchall()


def _headline(warehouse: Path) -> dict[str, dict[str, object]]:
    rows = _one(
        warehouse,
        """
        select
            extract,
            count(*) as rows_in,
            count(*) filter (where age is null) as missing_age,
            count(*) filter (where balance is null) as missing_balance,
            (select count(*) from (
                select customer_id from staging.int_customers_validated v
                where v.extract = s.extract group by customer_id having count(*) > 1
            )) as shared_ids
        from staging.int_customers_validated s
        group by extract
        """,
    )
    return {r[0]: {"rows": r[1], "missing_age": r[2], "missing_balance": r[3], "shared_ids": r[4]} for r in rows}


def _quarantine(warehouse: Path) -> dict[tuple[str, str], int]:
    rows = _one(warehouse, "select extract, quarantine_reason, count(*) from customers_quarantined group by all")
    return {(r[0], r[1]): r[2] for r in rows}


def _accounted(warehouse: Path) -> dict[str, tuple[int, int, int]]:
    rows = _one(
        warehouse,
        """
        select s.extract, s.rows_read,
            (select count(*) from customers c where c.extract = s.extract),
            (select count(*) from customers_quarantined q where q.extract = s.extract)
        from extract_summary s
        """,
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def test_shipped_seeds_build_and_reconcile(shipped_warehouse: Path) -> None:
    accounted = _accounted(shipped_warehouse)
    assert set(accounted) == {"bank_scrooge", "bank_dataset"}
    for rows_in, customers, quarantined in accounted.values():
        assert rows_in == 10_000
        assert rows_in == customers + quarantined
    headline = _headline(shipped_warehouse)
    assert headline["bank_scrooge"]["shared_ids"] > 0
    assert headline["bank_dataset"]["shared_ids"] == 0
    quarantine = _quarantine(shipped_warehouse)
    assert quarantine[("bank_scrooge", "missing_age")] == headline["bank_scrooge"]["missing_age"]
    assert quarantine[("bank_scrooge", "invalid_product_count")] == 10_000 // INVALID_PRODUCTS_EVERY


def test_every_unit_test_passes_here_and_the_main_job_leaves_them_out(shipped_warehouse: Path, tmp_path: Path) -> None:
    """The main job's build leaves out dbt's unit tests (pipeline.MAIN_BUILD: their inputs and expected rows are
    fixed, so no extract can change their outcome); CI runs every one declared under models/ here, on a copy of
    the shipped warehouse (for the columns of the inputs they do not list)."""
    import yaml

    assert pipeline.MAIN_BUILD[0] == "build" and "unit_test" in pipeline.MAIN_BUILD
    declared = sorted(
        f"unit_test.metanprom.{test['model']}.{test['name']}"
        for path in (PROJECT_DIR / "models").rglob("*.yml")
        for test in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("unit_tests", [])
    )
    assert len(declared) >= 8
    warehouse = tmp_path / "unit.duckdb"
    warehouse.write_bytes(shipped_warehouse.read_bytes())
    results = pipeline.run_dbt(["test", "--select", "test_type:unit"], warehouse)
    results = [r for r in results if not r.unique_id.startswith("operation.")]  # the on-run-start hook
    assert sorted(r.unique_id for r in results) == declared
    assert {r.status for r in results} == {"pass"}, [(r.unique_id, r.status, r.message) for r in results]


def test_real_extracts_every_row_accounted_for(real_warehouse: Path) -> None:
    assert _accounted(real_warehouse) == {
        "bank_scrooge": (10_000, 9_973, 27),
        "bank_dataset": (10_000, 10_000, 0),
    }


def test_real_extracts_headline_counts(real_warehouse: Path) -> None:
    assert _headline(real_warehouse) == {
        "bank_scrooge": {"rows": 10_000, "missing_age": 26, "missing_balance": 2_295, "shared_ids": 73},
        "bank_dataset": {"rows": 10_000, "missing_age": 0, "missing_balance": 3_617, "shared_ids": 0},
    }
    assert _quarantine(real_warehouse) == {
        ("bank_scrooge", "missing_age"): 26,
        ("bank_scrooge", "invalid_product_count"): 1,
    }
    # Shared ids are different people in two cities: both kept, keyed by id and city.
    pairs = _one(
        real_warehouse,
        "select count(*) from (select customer_id from customers where extract = 'bank_scrooge' "
        "group by customer_id having count(distinct city_code) = 2)",
    )
    assert pairs == [(73 - 23,)]


def test_foreign_header_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    bad = tmp_path / "mine.csv"
    bad.write_text("USERID,score,city\n1,2,3\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        pipeline.build({"bank_scrooge": bad}, tmp_path / "w.duckdb", log=lambda _: None)
    assert str(bad) in str(error.value)
    assert "missing columns ['gender'" in str(error.value)
    assert not (tmp_path / "w.duckdb").exists()


def test_failed_build_leaves_the_previous_warehouse_as_it_was(
    shipped_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """...and the failure names dbt's log where dbt wrote it: a relative DBT_LOG_PATH is read from the working
    directory, as dbt reads it, though dbt runs from a scratch folder removed afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DBT_LOG_PATH", "relative_logs")
    target = tmp_path / "w.duckdb"
    target.write_bytes(shipped_warehouse.read_bytes())
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    broken = tmp_path / "broken.csv"
    seed = (PROJECT_DIR / "seeds" / "bank_dataset.csv").read_text(encoding="utf-8").splitlines()
    broken.write_text("\n".join(seed[:100]) + "\n", encoding="utf-8")
    # the extract is fine, but a model fails to build (a var that is not a number)
    with pytest.raises(pipeline.DbtFailure, match="dbt build failed") as failure:
        pipeline.build(
            {"bank_dataset": broken}, target, log=lambda _: None, extra_vars={"discovery_min_customers": "'many'"}
        )
    # read from dbt's results, not its log: the node that failed (the table that applies the var) and dbt's own message
    assert "model.metanprom.int_segment_candidates: error:" in str(failure.value)
    assert "Could not convert string 'many'" in str(failure.value)
    log = tmp_path / "relative_logs" / "dbt.log"
    assert f"(full log: {log})" in str(failure.value)
    assert "Could not convert string 'many'" in log.read_text(encoding="utf-8")
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before
    assert not list(tmp_path.glob("metanprom_building_*")), "the new file is deleted"


def test_a_failed_raw_gate_stops_the_run_before_dbt(
    shipped_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The raw gate decides before dbt builds: its failure means dbt runs nothing but its parse of the project (which
    opens no database, while the gate runs in its own process), no file is started, nothing is replaced."""
    from dbt.cli.main import dbtRunner

    invoked: list[str] = []
    invoke = dbtRunner.invoke

    def only_a_parse(runner: dbtRunner, args: list[str], **kwargs: object):
        invoked.append(args[0])
        if args[0] != "parse":
            raise AssertionError(f"dbt {args[0]} started although the raw gate failed")
        return invoke(runner, args, **kwargs)

    monkeypatch.setattr(dbtRunner, "invoke", only_a_parse)
    target = tmp_path / "w.duckdb"
    target.write_bytes(shipped_warehouse.read_bytes())
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    lines = (PROJECT_DIR / "seeds" / "bank_scrooge.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    balance = header.index("balance")
    row = lines[1].split(",")
    row[balance] = "-5"  # a negative balance: an error-severity check
    bad = tmp_path / "negative.csv"
    bad.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")
    started: list[str] = []
    with pytest.raises(pipeline.QualityGateError, match="balance"):
        pipeline.build({"bank_scrooge": bad}, target, log=lambda _: None, when_building=lambda: started.append("x"))
    assert invoked == ["parse"]
    assert started == [], "what the build would need (the run's report process) was started"
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before
    assert not list(tmp_path.glob("metanprom_building_*")), "no new file was started"


def test_compiling_a_sql_model_loads_no_statistics_library(tmp_path: Path) -> None:
    """dbt and the package do not depend on each other: compiling SQL never imports the scientific stack."""
    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "from metanprom import pipeline\n"
        "pipeline.run_dbt(['compile', '--select', 'customers'], Path(sys.argv[1]))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'sklearn', 'statsmodels', 'phik'}))\n"
    )
    done = _run_program(program, tmp_path / "w.duckdb", tmp_path=tmp_path)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _run_program(program: str, *args: str | Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`program` (Python source) in a new interpreter with `args`, dbt's log and target folders under `tmp_path`
    and `env` on top of this environment; it must exit with status 0."""
    environment = {**os.environ, "DBT_LOG_PATH": str(tmp_path / "logs"), "DBT_TARGET_PATH": str(tmp_path / "target")}
    done = subprocess.run(
        [sys.executable, "-c", program, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**environment, **env},
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done


def test_a_python_model_on_duckdb_leaves_no_leak_report_at_exit(tmp_path: Path) -> None:
    """A process that ran a Python model on DuckDB (the statistics stack, phik among it, loaded) exits without
    DuckDB's nanobind leak report: with dbt-spark imported beside phik, every such process printed ~40 lines
    of `nanobind: leaked ...` at exit (dbt_metanprom imports dbt-spark only for a Spark profile)."""
    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "from metanprom import pipeline\n"
        "models = ['--select', '+int_churn_by_value_tested', '--resource-type', 'seed', '--resource-type', 'model']\n"
        "pipeline.run_dbt(['build', *models], Path(sys.argv[1]))\n"
        "print('dbt-spark imported:', 'dbt.adapters.spark' in sys.modules)\n"
    )
    done = _run_program(program, tmp_path / "w.duckdb", tmp_path=tmp_path)
    assert "dbt-spark imported: False" in done.stdout
    assert "nanobind" not in done.stdout + done.stderr, done.stderr[-3000:]


def test_dbt_reuses_its_parse_whatever_the_warehouse_or_memory_limit(tmp_path: Path) -> None:
    """dbt re-parses the whole project when its profile changes: building into another folder (a new warehouse,
    the bench's) or under another memory budget (the bench sets one) must reuse the last parse, not cost a full
    one."""
    program = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from metanprom import pipeline\n"
        "for warehouse, limit in zip(sys.argv[1::2], sys.argv[2::2]):\n"
        "    os.environ['METANPROM_DUCKDB_MEMORY_LIMIT'] = limit\n"
        "    pipeline.run_dbt(['compile', '--select', 'analysis_bands'], Path(warehouse))\n"
    )
    warehouses = [tmp_path / "one" / "a.duckdb", tmp_path / "two #2" / "b.duckdb", tmp_path / "three" / "c.duckdb"]
    limits = ["", "", "2GB"]
    arguments = [str(part) for pair in zip(warehouses, limits, strict=True) for part in pair]
    # dbt reports its partial parsing in debug events: the project's file log is at info (dbt_project.yml)
    _run_program(program, *arguments, tmp_path=tmp_path, DBT_LOG_LEVEL_FILE="debug")
    runs = (tmp_path / "logs" / "dbt.log").read_text(encoding="utf-8").split("Running with dbt")[1:]
    assert len(runs) == 3
    assert "Unable to do partial parsing because saved manifest not found" in runs[0]
    for run in runs[1:]:
        assert "Unable to do partial parsing" not in run, run[:3000]
    assert all(w.parent.is_dir() and not list(w.parent.glob(".metanprom-dbt-*")) for w in warehouses)


def test_a_new_extract_path_re_parses_nothing_and_is_read(tmp_path: Path) -> None:
    """`metanprom run` gives dbt a user's file, the raw gate's results and the memory budget by environment
    variables. dbt re-parses every file that read such a variable while parsing, and everything downstream of it,
    when its value changes (a new path re-parsed 10 files, 1.1 s): the macros read them only when a model runs.
    The path must still be the one read: the compiled staging and extract_summary name the second file."""
    program = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from metanprom import pipeline\n"
        "warehouse = Path(sys.argv[1])\n"
        "for path, results, limit in zip(sys.argv[2::3], sys.argv[3::3], sys.argv[4::3]):\n"
        "    os.environ['METANPROM_DUCKDB_MEMORY_LIMIT'] = limit\n"
        "    env = {'METANPROM_BANK_SCROOGE_PATH': path, 'METANPROM_QUALITY_RESULTS_PATH': results}\n"
        "    pipeline.run_dbt(['compile', '--select', 'stg_bank_scrooge__customers', 'extract_summary'],"
        " warehouse, env=env)\n"
    )
    target = tmp_path / "target"
    shipped = (PROJECT_DIR / "seeds" / "bank_scrooge.csv").read_bytes()  # the generator's rows, not a customer's
    runs = []
    for index, limit in enumerate(["", "2GB"]):
        extract = tmp_path / f"extract_{index}.csv"
        extract.write_bytes(shipped)
        runs += [str(extract), str(tmp_path / f"raw_checks_{index}.json"), limit]
    # dbt reports its partial parsing in debug events: the project's file log is at info (dbt_project.yml)
    _run_program(program, tmp_path / "w.duckdb", *runs, tmp_path=tmp_path, DBT_LOG_LEVEL_FILE="debug")
    logs = (tmp_path / "logs" / "dbt.log").read_text(encoding="utf-8").split("Running with dbt")[1:]
    assert len(logs) == 2
    assert "Nothing changed, skipping partial parsing" in logs[1], logs[1][:3000]
    assert "Partial parsing: updated file" not in logs[1]
    compiled = target / "compiled" / "metanprom" / "models"
    for model in ("staging/stg_bank_scrooge__customers.sql", "marts/extract_summary.sql"):
        sql = (compiled / model).read_text(encoding="utf-8")
        assert str(tmp_path / "extract_1.csv") in sql, model
        assert str(tmp_path / "extract_0.csv") not in sql, model


def test_dbts_file_log_is_at_info_unless_debug_is_asked_for(tmp_path: Path) -> None:
    """The project's flags put logs/dbt.log at info (its debug events, every query's text, cost ~1 s of a
    10,000-row build); DBT_LOG_LEVEL_FILE=debug brings them back."""
    program = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from metanprom import pipeline\n"
        "os.environ.pop('DBT_LOG_LEVEL_FILE', None)\n"
        "for level in ('', 'debug'):\n"
        "    if level:\n"
        "        os.environ['DBT_LOG_LEVEL_FILE'] = level\n"
        "    pipeline.run_dbt(['compile', '--select', 'analysis_bands'], Path(sys.argv[1]))\n"
    )
    _run_program(program, tmp_path / "w.duckdb", tmp_path=tmp_path)
    runs = (tmp_path / "logs" / "dbt.log").read_text(encoding="utf-8").split("Running with dbt")[1:]
    assert len(runs) == 2
    levels = [
        {line.split("]", 1)[0].rsplit("[", 1)[-1].strip() for line in run.splitlines() if " [" in line} for run in runs
    ]
    assert "info" in levels[0] and "debug" not in levels[0], levels[0]
    assert "debug" in levels[1], levels[1]


def test_dbt_builds_within_the_memory_limit_of_the_environment(tmp_path: Path) -> None:
    """$METANPROM_DUCKDB_MEMORY_LIMIT is DuckDB's limit for the whole build (read when dbt's work is done, so a
    database closed and opened again on the way would show DuckDB's default); unset, DuckDB's own default."""
    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "from dbt.adapters.duckdb.connections import DuckDBConnectionManager\n"
        "from metanprom import pipeline\n"
        "close = pipeline._close_dbt_duckdb\n"
        "def record_then_close():\n"
        "    con = DuckDBConnectionManager._ENV.conn\n"
        "    print('limit:', con.execute(\"select current_setting('memory_limit')\").fetchone()[0])\n"
        "    close()\n"
        "pipeline._close_dbt_duckdb = record_then_close\n"
        "pipeline.run_dbt(['run', '--select', 'analysis_bands'], Path(sys.argv[1]))\n"
    )
    recorded = {}
    for limit in ("321MB", ""):
        done = _run_program(
            program, tmp_path / f"w{limit}.duckdb", tmp_path=tmp_path, METANPROM_DUCKDB_MEMORY_LIMIT=limit
        )
        recorded[limit] = [line for line in done.stdout.splitlines() if line.startswith("limit: ")]
    default = duckdb.connect().execute("select current_setting('memory_limit')").fetchone()[0]
    assert recorded == {"321MB": ["limit: 306.1 MiB"], "": [f"limit: {default}"]}


def test_dbt_opens_an_existing_warehouse_again(tmp_path: Path) -> None:
    """A second dbt command on a warehouse it built: DuckDB names the catalog after a symbolic link's target once
    the file exists, which dbt, expecting the link's name, would not find."""
    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "from metanprom import pipeline\n"
        "for _ in range(2):\n"
        "    pipeline.run_dbt(['seed', '--select', 'city_names'], Path(sys.argv[1]))\n"
    )
    warehouse = tmp_path / "w.duckdb"
    _run_program(program, warehouse, tmp_path=tmp_path)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from raw.city_names").fetchone()[0] > 0
    assert not list(tmp_path.glob(".metanprom-dbt-*"))


def test_cli_reports_a_bad_extract_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    code = main(["run", "--bank-dataset", str(empty), "--warehouse", str(tmp_path / "w.duckdb")])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{empty}: the file is empty" in err
    assert "Traceback" not in err
    assert "nothing already built was changed." in err


def test_a_failure_after_the_swap_says_the_new_warehouse_is_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The exports fail once the new warehouse has replaced the old: the message must not claim that nothing
    changed."""
    target = tmp_path / "w.duckdb"
    exports = tmp_path / "exports"
    code = main(["run", "--warehouse", str(target), "--exports", str(exports), "--duckdb-storage-version", "latest"])
    err = capsys.readouterr().err
    assert code == 1
    assert "METANPROM_TABLEAU_DUCKDB_STORAGE='latest'" in err
    assert "nothing already built was changed" not in err
    assert "the new warehouse was built, checked and swapped in" in err
    assert target.exists() and not exports.exists()


def test_a_swap_verdict_lets_what_waits_go_on_only_once_the_warehouse_is_swapped_in() -> None:
    verdict = pipeline.SwapVerdict()
    verdict.check()  # not known yet: go on
    verdict.swapped()
    verdict.check()
    verdict.wait()
    refused = pipeline.SwapVerdict()
    refused.not_swapped()
    with pytest.raises(pipeline.NotSwappedIn):
        refused.check()
    with pytest.raises(pipeline.NotSwappedIn):
        refused.wait()


def _files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


def _delivered_from(monkeypatch: pytest.MonkeyPatch, after_the_swap: bool = False) -> list[dict[str, object]]:
    """Every call of deliver: the warehouse it read, and whether it was given the run's verdict. `after_the_swap`:
    each starts reading only once the new warehouse is swapped in (as a slow start would)."""
    calls: list[dict[str, object]] = []
    deliver = deliver_module.deliver

    def spied(warehouse, *args, **kwargs):
        calls.append({"warehouse": Path(warehouse), "verdict": kwargs.get("before_swap") is not None})
        if after_the_swap:
            kwargs["before_swap"]()
        return deliver(warehouse, *args, **kwargs)

    monkeypatch.setattr(deliver_module, "deliver", spied)
    return calls


def test_the_exports_and_reports_are_made_beside_the_mart_gate_and_name_the_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On DuckDB the exports and reports read the new file while the mart gate checks it; they name the warehouse
    it becomes, and are swapped in after it. Here they open it only after the swap (a slow start): they read it by
    a name the swap leaves in place, which goes once they are done. The reports are rendered by the run's report
    process, started once the raw gate has passed (its results written for dbt) and before dbt builds."""
    calls = _delivered_from(monkeypatch, after_the_swap=True)
    target, exports, reports = tmp_path / "w.duckdb", tmp_path / "exports", tmp_path / "reports"
    seen: list[tuple[str, bool]] = []
    start, render = ReportProcess.start, ReportProcess.render

    def spied_start(process: ReportProcess) -> None:
        building = list(tmp_path.glob("metanprom_building_*.duckdb"))
        seen.append(("start", (tmp_path / ".inputs" / "raw_checks.json").exists() and not building))
        start(process)

    def spied_render(process: ReportProcess, *args, **kwargs):
        seen.append(("render", True))
        return render(process, *args, **kwargs)

    monkeypatch.setattr(ReportProcess, "start", spied_start)
    monkeypatch.setattr(ReportProcess, "render", spied_render)
    assert main(["run", "--warehouse", str(target), "--exports", str(exports), "--report", str(reports)]) == 0
    assert seen[0] == ("start", True), "started after the raw gate, before dbt's build"
    assert [step for step, _ in seen].count("render") == 1
    assert len(calls) == 1 and calls[0]["verdict"]
    assert calls[0]["warehouse"].name.startswith("metanprom_building_"), "they read the new file, not the swapped one"
    assert json.loads((exports / "export.json").read_text())["warehouse"] == str(target)
    for report in ("report_en.html", "report_ru.html"):
        assert str(target) in (reports / report).read_text(encoding="utf-8")
        assert "metanprom_building_" not in (reports / report).read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".inputs", "exports", "reports", "w.duckdb"]
    assert sorted(p.name for p in reports.iterdir()) == ["report_en.html", "report_ru.html"]


def test_where_no_hard_link_can_be_made_the_exports_and_reports_come_after_the_swap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _delivered_from(monkeypatch)

    def no_link(source, link):
        raise OSError("hard links not supported here")

    monkeypatch.setattr(pipeline.os, "link", no_link)
    target, exports = tmp_path / "w.duckdb", tmp_path / "exports"
    assert main(["run", "--warehouse", str(target), "--exports", str(exports), "--report", str(tmp_path / "r")]) == 0
    assert calls == [{"warehouse": target, "verdict": False}], "delivered from the swapped-in warehouse"
    assert json.loads((exports / "export.json").read_text())["warehouse"] == str(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".inputs", "exports", "r", "w.duckdb"]


@pytest.mark.parametrize("gate", ["slow", "quick"])
def test_a_failed_mart_gate_swaps_in_nothing_made_beside_it(
    shipped_warehouse: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    gate: str,
) -> None:
    """The mart gate fails while the exports and reports are being made: `slow`, once they are written and wait to
    be swapped in; `quick`, at once (they stop at their first step). Either way the old warehouse, exports and
    reports stay, and nothing new is left behind."""
    calls = _delivered_from(monkeypatch)
    target, exports, reports = tmp_path / "w.duckdb", tmp_path / "exports", tmp_path / "reports"
    target.write_bytes(shipped_warehouse.read_bytes())
    exports.mkdir()
    (exports / "export.json").write_text("{}", encoding="utf-8")
    reports.mkdir()
    (reports / "report_en.html").write_text("the old report", encoding="utf-8")
    before = {folder: _files(folder) for folder in (exports, reports)}
    warehouse_before = hashlib.sha256(target.read_bytes()).hexdigest()
    checked = GateProcess.check_marts
    asked: list[str] = []
    waits, checks = pipeline.SwapVerdict.wait, pipeline.SwapVerdict.check

    def wait(verdict):
        asked.append("wait")
        return waits(verdict)

    def check(verdict):
        try:
            return checks(verdict)
        except pipeline.NotSwappedIn:
            asked.append("stopped at a step")
            raise

    bad = CheckResult("mart", "customers", "a check made to fail", None, "error", False, 1, "made to fail")

    def failing(gates, warehouse, raw_rows):
        real, failed = checked(gates, warehouse, raw_rows), Future()
        if gate == "quick":
            failed.set_result(GateOutcome([bad], None))
            return failed

        def fail(done: Future) -> None:
            time.sleep(8)  # the exports and reports of 10,000 rows are written by then
            failed.set_result(GateOutcome([*done.result().value, bad], done.result().cpu_seconds))

        real.add_done_callback(fail)
        return failed

    monkeypatch.setattr(GateProcess, "check_marts", failing)
    monkeypatch.setattr(pipeline.SwapVerdict, "wait", wait)
    monkeypatch.setattr(pipeline.SwapVerdict, "check", check)
    argv = ["run", "--warehouse", str(target), "--exports", str(exports), "--report", str(reports)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "a check made to fail" in err and "nothing already built was changed" in err
    assert len(calls) == 1 and calls[0]["verdict"], "the exports and reports were made beside the gate"
    # (a wait that is refused raises from its check too)
    assert asked.count("stopped at a step") == 2, asked
    if gate == "slow":
        assert asked.count("wait") == 2, "the exports and the reports each waited to be swapped in"
    else:
        assert asked.count("wait") == 0, "the exports and the reports each stopped at a step, before the end"
    assert hashlib.sha256(target.read_bytes()).hexdigest() == warehouse_before
    assert {folder: _files(folder) for folder in (exports, reports)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".inputs", "exports", "reports", "w.duckdb"]
    assert sorted(p.name for p in reports.iterdir()) == ["report_en.html"], "no report's new file is left"


def test_summary_reports_counts_clusters_and_hypotheses(shipped_warehouse: Path, capsys) -> None:
    assert main(["summary", "--warehouse", str(shipped_warehouse)]) == 0
    out = capsys.readouterr().out
    assert "bank_scrooge        10,000" in out
    assert "missing_age" in out
    assert out.count("clusters:") == 2 and "chosen (silhouette" in out
    assert out.count("hypotheses:") == 2 and "significant after adjustment" in out
