"""The run's report process: the same reports as the run's own process renders, its errors surface, and a report
that could not be rendered replaces nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from metanprom.delivery import deliver as deliver_module
from metanprom.delivery.report import render_reports, write_rendered
from metanprom.delivery.report_process import ReportProcess

LANGS = ("en", "ru")


def test_the_report_process_renders_the_same_reports(shipped_warehouse: Path) -> None:
    """Byte for byte what this process renders: the charts' PNGs and every figure."""
    source = Path("/somewhere/metanprom.duckdb")
    with ReportProcess() as renderer:
        renderer.start()
        texts, cpu = renderer.render(shipped_warehouse, LANGS, source)
    assert texts == render_reports(shipped_warehouse, LANGS, source)
    assert all(str(source) in text for text in texts.values())
    assert cpu > 0


def test_its_error_is_raised_here_and_no_report_is_replaced(shipped_warehouse: Path, tmp_path: Path) -> None:
    """A warehouse without a mart the report reads: the run's delivery fails with DuckDB's error naming it, and the
    reports written before stay as they were."""
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(shipped_warehouse.read_bytes())
    with duckdb.connect(str(broken)) as con:
        con.execute("drop table hypothesis_results")
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "report_en.html").write_text("the old report", encoding="utf-8")
    with ReportProcess() as renderer, pytest.raises(duckdb.CatalogException, match="hypothesis_results"):
        deliver_module.deliver(
            broken, tmp_path / "exports", report_dir=reports, log=lambda _: None, renderer=renderer, formats="parquet"
        )
    assert sorted(p.name for p in reports.iterdir()) == ["report_en.html"]
    assert (reports / "report_en.html").read_text(encoding="utf-8") == "the old report"


def test_a_report_process_that_dies_fails_the_reports_and_says_so(shipped_warehouse: Path) -> None:
    """Killed (as by the kernel when memory runs out): an error that says what happened."""
    with ReportProcess() as renderer:
        renderer.start()
        assert renderer._pool is not None
        renderer._pool.submit(os.getpid).result()  # loaded and idle
        for pid in list(renderer._pool._processes):
            os.kill(pid, signal.SIGKILL)
        with pytest.raises(RuntimeError, match="process rendering the reports ended before they were rendered"):
            renderer.render(shipped_warehouse, LANGS)


def test_the_run_writes_what_the_report_process_rendered(shipped_warehouse: Path, tmp_path: Path) -> None:
    """deliver with a report process writes both reports as rendered, and counts that process's CPU seconds in the
    side-by-side step."""
    with ReportProcess() as renderer:
        done = deliver_module.deliver(
            shipped_warehouse,
            tmp_path / "exports",
            report_dir=tmp_path / "reports",
            log=lambda _: None,
            renderer=renderer,
            formats="parquet",
        )
    expected = render_reports(shipped_warehouse, LANGS)
    assert done.reports == [tmp_path / "reports" / f"report_{lang}.html" for lang in LANGS]
    assert {lang: path.read_text(encoding="utf-8") for lang, path in zip(LANGS, done.reports, strict=True)} == expected
    assert done.cpu_seconds[deliver_module.SIDE_BY_SIDE] > 0


def test_writing_rendered_reports_loads_no_matplotlib(shipped_warehouse: Path, tmp_path: Path) -> None:
    """The run's process writes the reports the report process rendered without loading matplotlib (in a new
    interpreter: this one has it already)."""
    script = tmp_path / "deliver.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            from pathlib import Path

            from metanprom.delivery.deliver import deliver
            from metanprom.delivery.report_process import ReportProcess

            if __name__ == "__main__":
                with ReportProcess() as renderer:
                    done = deliver(
                        Path({str(shipped_warehouse)!r}),
                        Path({str(tmp_path / "exports")!r}),
                        report_dir=Path({str(tmp_path / "reports")!r}),
                        log=lambda _: None,
                        renderer=renderer,
                        formats="csv",
                    )
                assert all(path.stat().st_size > 100_000 for path in done.reports), "the charts are in"
                print("matplotlib" in sys.modules)
            """
        ),
        encoding="utf-8",
    )
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.strip() == "False"


def test_write_rendered_leaves_the_old_reports_when_the_swap_is_called_off(tmp_path: Path) -> None:
    (tmp_path / "report_en.html").write_text("the old report", encoding="utf-8")

    def called_off() -> None:
        raise RuntimeError("the mart gate failed")

    with pytest.raises(RuntimeError, match="mart gate failed"):
        write_rendered({"en": "<html>new</html>", "ru": "<html>новый</html>"}, tmp_path, before_swap=called_off)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report_en.html"]
    assert (tmp_path / "report_en.html").read_text(encoding="utf-8") == "the old report"
