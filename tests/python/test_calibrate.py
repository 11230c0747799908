"""Fidelity of the generator to the real extracts (runs where ../shared/data is present)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import real_extract

from metanprom.calibrate import fidelity, read_canonical
from metanprom.formats import FORMATS
from metanprom.generator import generate


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_generated_extract_matches_the_real_one(fmt: str, tmp_path: Path) -> None:
    real_path = real_extract(fmt)
    out = tmp_path / f"{fmt}.csv"
    generate(fmt, 200_000, out, seed=3)
    problems = fidelity(read_canonical(real_path, fmt), read_canonical(out, fmt), list(FORMATS[fmt].cities))
    assert problems == []


def test_fidelity_check_can_fail(tmp_path: Path) -> None:
    real_path = real_extract("bank_scrooge")
    real = read_canonical(real_path, "bank_scrooge")
    skewed = real.copy()
    skewed.loc[skewed["product_count"] == 1, "is_churned"] = 1.0
    skewed.loc[skewed.index[:800], "age"] = None
    problems = fidelity(real, skewed, list(FORMATS["bank_scrooge"].cities))
    assert any("product_count" in p for p in problems)
    assert any("missing share of age" in p for p in problems)
