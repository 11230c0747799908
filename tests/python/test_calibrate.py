"""Fidelity of the generator to the real extracts (runs where ../shared/data is present)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import real_extract

from metanprom.devtools.calibrate import MIN_CELL, fidelity, read_canonical
from metanprom.devtools.generator import generate, load_params
from metanprom.ingest.formats import FORMATS
from metanprom.settings import PROJECT_DIR


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


# ------------------------------------------------- no customer in the parameters


def _params(fmt: str) -> dict:
    return load_params(fmt)


def _holders(column, value: float) -> int:
    """How many customers hold exactly `value` (to the stored precision)."""
    return int((column.dropna().round(2) == round(value, 2)).sum())


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_no_stored_number_is_held_by_fewer_than_ten_customers(fmt: str) -> None:
    """Every value a marginal stores is either no customer's value or one that MIN_CELL or more customers hold
    (a bin's mean, a common age): no single customer's value, the extremes included, can be read."""
    real = read_canonical(real_extract(fmt), fmt)
    params = _params(fmt)
    for city, spec in params["by_city"].items():
        part = real[real["city"] == city]
        for name, marginal in spec["marginals"].items():
            for value in marginal["values"]:
                held = _holders(part[name], value)
                assert held == 0 or held >= MIN_CELL, (city, name, value, held)
            if marginal["kind"] == "continuous":
                assert max(marginal["values"]) < part[name].max() or _holders(part[name], part[name].max()) >= MIN_CELL
                assert min(marginal["values"]) > part[name].min() or _holders(part[name], part[name].min()) >= MIN_CELL


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_stored_category_and_group_holds_ten_customers(fmt: str) -> None:
    real = read_canonical(real_extract(fmt), fmt)
    params = _params(fmt)
    for city, spec in params["by_city"].items():
        part = real[real["city"] == city]
        for name, marginal in spec["marginals"].items():
            if marginal["kind"] == "discrete":
                for value in marginal["values"]:
                    assert (part[name] == value).sum() >= MIN_CELL, (city, name, value)
    for name, group in params["churn"]["groups"].items():
        if "values" in group and name != "city":
            for value in group["values"]:
                assert (real[name] == value).sum() >= MIN_CELL, (name, value)
        for edge in group.get("edges", []):
            held = _holders(real[name], edge)
            assert held == 0 or held >= MIN_CELL, (name, edge, held)
    quirks = params["quirks"]
    ids = real["customer_id"]
    shared = ids.duplicated(keep=False)
    if quirks["duplicate_pair_rate"]:
        assert shared.sum() // 2 >= MIN_CELL
    if quirks["missing_age_rate_duplicated"]:
        assert real.loc[shared, "age"].isna().sum() >= MIN_CELL
    assert set(quirks) == {
        "duplicate_pair_rate", "duplicate_cities", "missing_age_rate_duplicated", "has_missing_ages",
        "has_invalid_product_counts",
    }, "nothing else is fitted"  # fmt: skip


def test_synthetic_ids_lie_outside_every_real_range(tmp_path: Path) -> None:
    real_ids = {fmt: read_canonical(real_extract(fmt), fmt)["customer_id"].dropna() for fmt in FORMATS}
    ranges = [(ids.min(), ids.max()) for ids in real_ids.values()]
    for fmt in FORMATS:
        shipped = read_canonical(PROJECT_DIR / "seeds" / f"{fmt}.csv", fmt)["customer_id"]
        generate(fmt, 200_000, tmp_path / f"{fmt}.csv", seed=5)
        large = read_canonical(tmp_path / f"{fmt}.csv", fmt)["customer_id"]
        for ids in (shipped, large):
            for low, high in ranges:
                assert not ids.between(low, high).any(), (fmt, low, high)


def test_the_privacy_check_can_fail() -> None:
    """A real customer's largest balance in a parameter file is caught."""
    real = read_canonical(real_extract("bank_scrooge"), "bank_scrooge")
    city = "Ростов"
    top = real.loc[real["city"] == city, "balance"].max()
    assert 0 < _holders(real.loc[real["city"] == city, "balance"], top) < MIN_CELL
