"""The benchmark's peers compute the same figures as the marts they are timed against.

The baseline (pandas, and Polars) reads the raw extract and computes with scipy and statsmodels on the
raw values; the marts come from dbt on the same file. Every figure the baseline returns is compared with
the marts: counts exactly, means and medians to 1e-12, statistics and p-values to 1e-9.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest

from metanprom.devtools import baseline
from metanprom.settings import PROJECT_DIR

pytestmark = pytest.mark.integration
SAMPLE = PROJECT_DIR / "seeds" / "bank_scrooge.csv"
EXTRACT = "bank_scrooge"


@pytest.fixture(scope="module")
def marts(shipped_warehouse: Path):
    with duckdb.connect(str(shipped_warehouse), read_only=True) as con:
        yield con


@pytest.fixture(scope="module", params=sorted(baseline.ENGINES))
def found(request) -> dict:
    return baseline.figures(str(SAMPLE), request.param)


def test_the_baseline_counts_the_customers_the_marts_keep(found, marts) -> None:
    kept = marts.execute("select count(*) from customers where extract = ?", [EXTRACT]).fetchall()[0][0]
    assert found["rows"] == kept


def test_the_portrait_is_the_marts(found, marts) -> None:
    assert len(found["portrait"]) == 12
    for (feature, statistic), (churned, retained) in found["portrait"].items():
        expected = marts.execute(
            "select churned_value, retained_value from churn_portrait where extract = ? and feature = ? "
            "and statistic = ?",
            [EXTRACT, feature, statistic],
        ).fetchall()
        assert len(expected) == 1, (feature, statistic)
        assert churned == pytest.approx(expected[0][0], rel=1e-12), (feature, statistic)
        assert retained == pytest.approx(expected[0][1], rel=1e-12), (feature, statistic)


def test_churn_by_feature_is_the_marts(found, marts) -> None:
    rows = marts.execute(
        "select feature, feature_value, customers, churned from churn_by_feature where extract = ?", [EXTRACT]
    ).fetchall()
    # a band is known by the number its label starts with ('02: 650–699'), a plain value by its text
    expected = {
        (feature, int(value[:2]) if feature in baseline.BANDS else value): (n, churned)
        for feature, value, n, churned in rows
    }
    assert found["by_feature"] == expected


def test_segments_are_the_marts(found, marts) -> None:
    expected = {
        (scheme, segment): (n, churned)
        for scheme, segment, n, churned in marts.execute(
            "select scheme, segment_id, customers, churned from segment_summary where extract = ? "
            "and segment_id <> 'unassigned'",
            [EXTRACT],
        ).fetchall()
    }
    assert found["segments"] == expected


def test_every_hypothesis_is_the_marts(found, marts) -> None:
    columns = ("statistic", "p_value", "p_value_adjusted", "p_value_trimmed", "effect_size")
    rows = marts.execute(
        f"select hypothesis_id, {', '.join(columns)} from hypothesis_results where extract = ?", [EXTRACT]
    ).fetchall()
    expected = {r[0]: dict(zip(columns, r[1:], strict=True)) for r in rows}
    assert sorted(found["hypotheses"]) == sorted(expected)
    for hid, figures in found["hypotheses"].items():
        for column, value in figures.items():
            reference = expected[hid][column]
            assert reference is not None and math.isclose(value, reference, rel_tol=1e-9, abs_tol=1e-300), (
                hid,
                column,
                value,
                reference,
            )
