"""`deliver` runs the exports and the reports side by side and reports each one's time; a failure surfaces."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from metanprom import pipeline
from metanprom.cli import main
from metanprom.delivery import deliver as deliver_module
from metanprom.settings import output_dir


def _fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fail: bool = False) -> dict[str, set[str]]:
    running: dict[str, set[str]] = {"seen_together": set()}
    active: set[str] = set()
    lock = threading.Lock()

    def step(name: str) -> None:
        with lock:
            active.add(name)
        time.sleep(0.3)
        with lock:
            if len(active) == 2:
                running["seen_together"] |= active
            active.discard(name)

    def export(warehouse, out, **kwargs):
        step("exports")
        if fail:
            raise RuntimeError("disk full")
        return {"out": str(tmp_path / "exports")}

    def write_reports(warehouse, langs, out_dir=None, source=None, before_swap=None):
        for lang in langs:
            step(f"report {lang}")
        return [(out_dir or tmp_path) / f"report_{lang}.html" for lang in langs]

    monkeypatch.setattr("metanprom.delivery.export.export", export)
    monkeypatch.setattr("metanprom.delivery.report.write_reports", write_reports)
    return running


def test_exports_and_reports_run_side_by_side(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    running = _fake(monkeypatch, tmp_path)
    done = deliver_module.deliver(tmp_path / "w.duckdb", log=lambda _: None)
    assert done.exports == tmp_path / "exports"
    assert done.reports == [tmp_path / "report_en.html", tmp_path / "report_ru.html"]
    assert set(done.seconds) == {"exports", "reports", deliver_module.SIDE_BY_SIDE}
    assert set(done.cpu_seconds) == {deliver_module.SIDE_BY_SIDE}
    together = done.seconds[deliver_module.SIDE_BY_SIDE]
    assert (
        max(done.seconds["exports"], done.seconds["reports"])
        <= together
        < done.seconds["exports"] + done.seconds["reports"]
    )
    assert "exports" in running["seen_together"], "the exports ran while a report was being written"


def test_a_failing_export_is_raised(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake(monkeypatch, tmp_path, fail=True)
    with pytest.raises(RuntimeError, match="disk full"):
        deliver_module.deliver(tmp_path / "w.duckdb", log=lambda _: None)


def test_the_reports_go_to_report_dir(shipped_warehouse: Path, tmp_path: Path) -> None:
    """Both reports are written into the folder asked for, and none into the default output/report."""
    default = output_dir() / "report"
    before = {path: path.stat().st_mtime_ns for path in default.glob("*")} if default.exists() else {}
    done = deliver_module.deliver(
        shipped_warehouse, tmp_path / "exports", report_dir=tmp_path / "reports", log=lambda _: None
    )
    assert done.reports == [tmp_path / "reports" / "report_en.html", tmp_path / "reports" / "report_ru.html"]
    assert all(path.stat().st_size > 0 for path in done.reports)
    after = {path: path.stat().st_mtime_ns for path in default.glob("*")} if default.exists() else {}
    assert after == before, "a report was written to the default folder too"


def test_run_passes_report_and_exports_to_the_delivery(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: dict[str, object] = {}

    def build(inputs, warehouse, dbt_target, beside_mart_gate, when_building):
        # as on Spark: nothing runs beside the mart gate, the delivery comes after the build
        return pipeline.RunResult(warehouse=warehouse)

    def deliver(warehouse, exports_dir=None, **kwargs):
        asked.update(kwargs, exports_dir=exports_dir)
        report_dir = kwargs["report_dir"]
        return deliver_module.Delivered(
            exports=exports_dir, reports=[report_dir / "report_en.html"] if report_dir else []
        )

    monkeypatch.setattr(pipeline, "build", build)
    monkeypatch.setattr(deliver_module, "deliver", deliver)
    monkeypatch.setattr("metanprom.cli.summary_text", lambda warehouse, inputs: "")
    argv = ["run", "--warehouse", str(tmp_path / "w.duckdb"), "--exports", str(tmp_path / "e")]
    assert main([*argv, "--report", str(tmp_path / "r")]) == 0
    assert asked["exports_dir"] == tmp_path / "e" and asked["report_dir"] == tmp_path / "r"
    assert f"report:    {tmp_path / 'r' / 'report_en.html'}" in capsys.readouterr().out
    assert main(argv) == 0
    assert asked["report_dir"] is None, "without --report the reports go to the default folder"
    assert asked["formats"] is None, "without --formats every format"
    assert main([*argv, "--formats", "hyper,csv"]) == 0
    assert asked["formats"] == "hyper,csv"


def test_run_refuses_an_unknown_export_format_before_it_builds(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    built: list[object] = []
    monkeypatch.setattr(pipeline, "build", lambda *args, **kwargs: built.append(args))
    argv = ["run", "--warehouse", str(tmp_path / "w.duckdb"), "--formats", "hyper,xlsx"]
    assert main(argv) == 1
    assert built == [], "nothing is built for a run whose exports cannot be written"
    err = capsys.readouterr().err
    assert "'xlsx'" in err and "hyper, duckdb, parquet, csv" in err and "nothing already built was changed" in err
    # --no-deliverables writes no exports: its --formats is not looked at
    monkeypatch.setattr(
        pipeline,
        "build",
        lambda inputs, warehouse, dbt_target, beside_mart_gate, when_building: pipeline.RunResult(warehouse=warehouse),
    )
    monkeypatch.setattr("metanprom.cli.summary_text", lambda warehouse, inputs: "")
    assert main([*argv, "--no-deliverables"]) == 0
