"""The benchmark runs end to end on a small size and writes its files (figures are not asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metanprom.devtools import bench


@pytest.mark.integration
def test_bench_runs_on_a_small_size_and_writes_its_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # dbt's folders the bench inherits: its stages keep their own, so none of them is written to
    inherited = tmp_path / "inherited"
    monkeypatch.setenv("DBT_TARGET_PATH", str(inherited / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(inherited / "logs"))
    md = bench.main([2_000], tmp_path / "out", tmp_path / "work", spark=True)
    data = json.loads((tmp_path / "out" / "benchmarks.json").read_text(encoding="utf-8"))
    assert data["machine"]["cores"] >= 1
    (result,) = data["results"]
    assert result["rows"] == 2_000
    stages = result["stages"]
    for stage in (
        "generate",
        "floor (DuckDB alone)",
        "pandas baseline",
        "Polars baseline",
        "metanprom run",
        bench.STAGE_RUN_AGAIN,
        bench.STAGE_HYPOTHESES,
        bench.STAGE_SAME_ANALYSIS,
    ):
        assert stages[stage]["seconds"] > 0
        # every stage is a Python process that imports at least DuckDB or pandas: tens of MiB at the least
        assert stages[stage]["peak_mib"] > 30, stage
        # a stage works at least a little, and no more than every core all the time
        assert 0 < stages[stage]["cpu_seconds"] <= stages[stage]["seconds"] * data["machine"]["cores"] + 0.05, stage
    # dbt's parse: the whole project in the first run (a folder of its own, new), then the first run's parse reused
    first = stages["metanprom run"]["dbt_parse"]
    assert first["files"] > 100 and first["files_parsed"] == first["files"], first
    again = stages[bench.STAGE_RUN_AGAIN]["dbt_parse"]
    assert again["files_parsed"] == 0 and again["files"] == first["files"], again
    assert again["seconds"] < first["seconds"]
    assert stages[bench.STAGE_SAME_ANALYSIS]["saved_parse_reused"] is True
    assert "dbt_parse" not in stages[bench.STAGE_SAME_ANALYSIS], "dbt build writes no perf_info.json to report"
    assert not inherited.exists(), "a stage wrote into the dbt folders the bench inherited"
    assert not (tmp_path / "work" / "dbt_2000").exists(), "the stages' dbt folder is removed afterwards"
    # the pipeline's steps happen inside its run: their seconds cannot add up to more than the run's wall time
    assert result["pipeline"]["seconds"]["dbt build"] < stages["metanprom run"]["seconds"]
    # the ratios the targets are judged by, worked from the stage figures by hand
    floor = stages["floor (DuckDB alone)"]
    # the floor's time inside its process excludes the interpreter's start-up, so it is the smaller one
    assert 0 < floor["inner_seconds"] < floor["seconds"]
    worked = {
        "dbt build / floor": result["pipeline"]["seconds"]["dbt build"] / floor["inner_seconds"],
        "whole pipeline / floor": stages["metanprom run"]["seconds"] / floor["seconds"],
        "pandas baseline / same analysis": stages["pandas baseline"]["seconds"]
        / stages[bench.STAGE_SAME_ANALYSIS]["seconds"],
        "Polars baseline / same analysis": stages["Polars baseline"]["seconds"]
        / stages[bench.STAGE_SAME_ANALYSIS]["seconds"],
    }
    for name, value in worked.items():
        assert bench.ratios(result)[name] == pytest.approx(value, rel=1e-12), name
    text = md.read_text(encoding="utf-8")
    assert "| 2,000 | metanprom run |" in text
    run_line = next(line for line in text.splitlines() if line.startswith("| 2,000 | metanprom run |"))
    assert f"{stages['metanprom run']['seconds']:.1f}" in run_line, "the table shows the measured figure"
    run = stages["metanprom run"]
    assert f"| {run['cpu_seconds']:.1f} | {run['cpu_seconds'] / run['seconds']:.2f} |" in run_line
    # the run's steps: CPU seconds of the run's own process while each ran, within what the whole run used
    steps_cpu = result["pipeline"]["cpu_seconds"]
    assert 0 < steps_cpu["dbt build"] <= run["cpu_seconds"]
    assert sum(steps_cpu.values()) <= run["cpu_seconds"]
    build_line = next(line for line in text.splitlines() if line.startswith("| 2,000 | · run: dbt build |"))
    assert f"| {steps_cpu['dbt build']:.1f} |" in build_line
    assert "dbt build ÷ floor" in text
    assert "pandas baseline ÷ same analysis" in text
    assert "Polars baseline ÷ same analysis" in text
    assert "## Targets at 2,000 rows" in text
    assert "| metanprom run at 2,000 rows, seconds |" in text
    seconds_again = stages[bench.STAGE_RUN_AGAIN]["seconds"]
    assert f"| metanprom run again at 2,000 rows, seconds | {seconds_again:.1f} |" in text
    assert f"| 2,000 | metanprom run | {first['files_parsed']} | {first['files']} | {first['seconds']:.1f} |" in text
    assert f"| 2,000 | {bench.STAGE_RUN_AGAIN} | 0 | {first['files']} | {again['seconds']:.1f} |" in text
    assert "reused the run's saved parse: 2,000 rows: yes" in text
    assert result["pipeline"]["dbt_totals"]["model"]["nodes"] > 0
    # the build on local Spark: a JVM beside Python, so hundreds of MiB; its row and its ratio to DuckDB's build
    spark = stages[bench.STAGE_SPARK]
    assert spark["seconds"] > 0 and spark["peak_mib"] > 200
    build = result["pipeline"]["seconds"]["dbt build"]
    row = f"| 2,000 | {spark['seconds']:.1f} | {spark['peak_mib']:.0f} | {build:.1f} | {spark['seconds'] / build:.1f} |"
    assert "## Spark" in text and row in text


def test_peak_memory_adds_up_processes_that_run_side_by_side() -> None:
    """Two children holding 200 MiB each at once: the stage's peak is their sum, not the larger one."""
    import sys

    hold = "import time; x = bytearray(200 * 1024 * 1024); x[::4096] = b'x' * len(x[::4096]); time.sleep(2)"
    both = f"import subprocess, sys; ps = [subprocess.Popen([sys.executable, '-c', {hold!r}]) for _ in range(2)]; "
    both += "[p.wait() for p in ps]"
    peak = bench._peak_of([sys.executable, "-c", both])["peak_mib"]
    assert peak > 380


def test_cpu_time_counts_the_stages_descendants_and_not_its_waiting() -> None:
    """A stage that only waits for a child, which sleeps, then waits for a grandchild that works: the stage's CPU
    seconds hold the grandchild's work (the grandchild's own clock is the reference), and not the wall time
    spent waiting."""
    import os
    import sys

    busy = "import time\nwhile time.process_time() < 0.5:\n    sum(range(10_000))\nprint(time.process_time())"
    middle = f"import subprocess, sys, time; time.sleep(1); subprocess.run([sys.executable, '-c', {busy!r}])"
    stage = bench._peak_of([sys.executable, "-c", middle])
    reported = float(stage["stdout"])
    assert reported >= 0.5
    assert stage["seconds"] >= 1.5
    # two interpreters' start-up on top of the grandchild's work, far below the second of sleep
    assert reported - 0.02 <= stage["cpu_seconds"] < reported + 0.9
    assert stage["cpu_seconds"] <= stage["seconds"] * (os.cpu_count() or 1)


def test_a_failed_stage_names_its_errors_first_and_last_lines() -> None:
    """A stage whose stderr is a long trace (under Spark: start-up lines, then the exception, thousands of frames,
    a `Caused by:` and more frames): the error keeps the first lines, every line naming an error in between (not
    the frames), and the last ones, says how much lies between, and ends with the stage's last output; a short
    stderr is kept whole."""
    import sys

    trace = (
        "import sys; print('built 3 of 40 models'); print('Database Error in model churn_portrait')\n"
        "sys.stderr.write(''.join(f'26/12/07 WARN Utils: start-up line {i}\\n' for i in range(30)))\n"
        "sys.stderr.write('py4j.protocol.Py4JJavaError: An error occurred while calling o42.sql.\\n')\n"
        "sys.stderr.write(': java.lang.StackOverflowError\\n')\n"
        "sys.stderr.write(''.join(f'\\tat org.apache.spark.Frame{i}\\n' for i in range(5000)))\n"
        "sys.stderr.write('Caused by: java.lang.IllegalStateException: the cause\\n')\n"
        "sys.stderr.write(''.join(f'\\tat org.apache.spark.Later{i}\\n' for i in range(3000)))\n"
        "sys.stderr.write('the last line\\n'); sys.exit(3)"
    )
    with pytest.raises(RuntimeError) as failed:
        bench._peak_of([sys.executable, "-c", trace])
    _command, message = str(failed.value).split(" failed (3).\n", 1)  # the command's text holds the same words
    for kept in (
        "start-up line 0\n",
        "start-up line 24\n",
        "Py4JJavaError: An error occurred",
        ": java.lang.StackOverflowError",
    ):
        assert message.index(kept) < message.index("Later2999"), kept
    assert "Caused by: java.lang.IllegalStateException: the cause" in message
    assert "start-up line 25\n" not in message
    assert "Frame2500\n" not in message and "Later0\n" not in message  # frames between head and tail: left out
    assert "Later2999\nthe last line" in message
    assert "3 lines naming an error between them" in message
    assert message.rstrip().endswith("Database Error in model churn_portrait")

    with pytest.raises(RuntimeError) as failed:
        bench._peak_of([sys.executable, "-c", "import sys; sys.stderr.write('short\\n'); sys.exit(1)"])
    assert "--- stderr ---\nshort\n" in str(failed.value) and "in between" not in str(failed.value)
