"""`deliver` runs the exports and the reports side by side and reports each one's time; a failure surfaces."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from metanprom.delivery import deliver as deliver_module


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

    def write_report(warehouse, lang):
        step(f"report {lang}")
        return tmp_path / f"report_{lang}.html"

    monkeypatch.setattr("metanprom.delivery.export.export", export)
    monkeypatch.setattr("metanprom.delivery.report.write_report", write_report)
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
