"""The `metanprom` command's own process settings."""

from __future__ import annotations

import gc

import pytest

from metanprom import cli


def test_the_command_collects_young_objects_less_often_and_restores_the_callers_thresholds(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen = []

    def summary_text(*args, **kwargs) -> str:
        seen.append(gc.get_threshold())
        return "summary"

    monkeypatch.setattr(cli, "summary_text", summary_text)
    before = gc.get_threshold()
    assert cli.main(["summary", "--warehouse", "w.duckdb"]) == 0
    assert capsys.readouterr().out == "summary\n"
    assert seen == [(cli.GC_YOUNG_THRESHOLD, *before[1:])], "while the command runs"
    assert gc.get_threshold() == before, "the caller's own thresholds afterwards"
