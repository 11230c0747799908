"""Settings: environment variables scoped to a block."""

from __future__ import annotations

import os

import pytest

from metanprom.settings import scoped_environment


def test_a_scoped_environment_gives_back_what_was_there_and_what_was_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METANPROM_TEST_KEPT", "before")
    monkeypatch.delenv("METANPROM_TEST_ABSENT", raising=False)
    with pytest.raises(RuntimeError), scoped_environment({"METANPROM_TEST_KEPT": "x", "METANPROM_TEST_ABSENT": "y"}):
        assert (os.environ["METANPROM_TEST_KEPT"], os.environ["METANPROM_TEST_ABSENT"]) == ("x", "y")
        raise RuntimeError("the block fails")
    assert os.environ["METANPROM_TEST_KEPT"] == "before"
    assert "METANPROM_TEST_ABSENT" not in os.environ
