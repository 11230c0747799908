"""Segment statistics against references: the cut-point scan recounted from customers with plain SQL and tested
with statsmodels, its signs, and its Holm adjustment worked by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from metanprom.statistics.segments import scan_cut_points, two_proportion_tests
from metanprom.warehouse import connect


def _scan(warehouse: Path) -> pd.DataFrame:
    with connect(warehouse) as con:
        return con.execute("select * from segment_cut_points").df()


def _rule_without(rule_sql: str, feature: str, operator: str, cut: float) -> str:
    """The segment's rule with the scanned condition replaced by the other bound only (for a between), or
    dropped: the population the scan splits, rebuilt from the mart's own compiled rule text."""
    assert rule_sql.startswith("(") and rule_sql.endswith(")"), rule_sql
    kept = []
    for text in rule_sql[1:-1].split(") and ("):
        if text.startswith(f"{feature} between "):
            low, high = text.removeprefix(f"{feature} between ").split(" and ")
            kept.append(f"{feature} <= {high}" if operator == ">=" else f"{feature} >= {low}")
        elif text.startswith(f"{feature} ") and not text.startswith(f"{feature} between"):
            continue
        else:
            kept.append(text)
    return " and ".join(f"({k})" for k in kept) or "true"


def test_chosen_cuts_are_recounted_exactly_from_customers(shipped_warehouse: Path) -> None:
    scan = _scan(shipped_warehouse)
    chosen = scan[scan["is_chosen_cut"]]
    assert len(chosen) >= 10
    with connect(shipped_warehouse) as con:
        rules = dict(
            ((e, s, g), r)
            for e, s, g, r in con.execute(
                "select extract, scheme, segment_id, rule_sql from segment_summary"
            ).fetchall()
        )
        checked_between = 0
        for row in chosen.itertuples():
            rule = rules[(row.extract, row.scheme, row.segment_id)]
            population = _rule_without(rule, row.feature, row.operator, row.chosen_cut)
            side = "<=" if row.operator in ("<=", ">") else "<"
            left, left_churned, right, right_churned = con.execute(
                f"select count(*) filter (where {row.feature} {side} ?), "
                f"count(*) filter (where {row.feature} {side} ? and is_churned), "
                f"count(*) filter (where not ({row.feature} {side} ?)), "
                f"count(*) filter (where not ({row.feature} {side} ?) and is_churned) "
                f"from customers where extract = ? and {population} and {row.feature} is not null",
                [row.chosen_cut] * 4 + [row.extract],
            ).fetchone()
            assert (row.customers_left, row.customers_right) == (left, right), (row.segment_id, row.feature)
            z, p = proportions_ztest([right_churned, left_churned], [right, left])
            assert row.z_statistic == pytest.approx(z, rel=1e-9), "z is right minus left"
            assert row.p_value == pytest.approx(p, rel=1e-9)
            checked_between += "between" in rule and row.feature == "credit_score"
    assert checked_between >= 4, "both bounds of the credit-score between rules were checked"


def test_signs_agree_and_holm_is_the_value_worked_by_hand(shipped_warehouse: Path) -> None:
    scan = _scan(shipped_warehouse)
    nonzero = scan[scan["churn_rate_difference"].abs() > 1e-12]
    assert (np.sign(nonzero["z_statistic"]) == np.sign(nonzero["churn_rate_difference"])).all()
    keys = ["extract", "scheme", "segment_id", "feature", "operator", "chosen_cut"]
    for _, group in scan.groupby(keys):
        p = group["p_value"].to_numpy()
        order = np.argsort(p)
        m = len(p)
        stepped = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))  # Holm's step-down
        expected = np.empty(m)
        expected[order] = stepped
        np.testing.assert_allclose(group["p_value_holm"].to_numpy(), expected, rtol=1e-12)
        assert (group["is_significant"] == (group["p_value_holm"] < 0.05)).all()
        assert (group["candidates_tested"] == m).all()


def test_money_on_the_wrong_side_of_a_cut_is_caught() -> None:
    """A balance of 750,400 against the cut `>= 750,000`: the old rounding to thousands put it left."""
    histograms = pd.DataFrame(
        {
            "extract": "x", "scheme": "s", "segment_id": "g", "feature": "balance", "operator": ">=",
            "chosen_cut": 750_000.0,
            # floor buckets (operator >=): 749,600 -> 749,000 (left), 750,400 -> 750,000 (right)
            "value": [749_000.0, 750_000.0, 760_000.0],
            "is_left_of_chosen": [True, False, False],
            "customers": [100, 50, 100],
            "churned": [10, 25, 50],
        }
    )  # fmt: skip
    row = scan_cut_points(histograms).query("is_chosen_cut").iloc[0]
    assert (row["customers_left"], row["customers_right"]) == (100, 150)
    assert row["churn_rate_right"] == pytest.approx(75 / 150)


def test_vectorised_two_proportion_tests_are_statsmodels_row_by_row() -> None:
    """The pseudo-count guard for degenerate rows must not touch the others: each row against statsmodels'
    own pooled z-test, degenerate rows (all churned, none churned) z = 0 and p = 1."""
    rng = np.random.default_rng(9)
    n_a = rng.integers(20, 2_000, 200)
    n_b = rng.integers(20, 2_000, 200)
    c_a = rng.binomial(n_a, rng.uniform(0.05, 0.6, 200))
    c_b = rng.binomial(n_b, rng.uniform(0.05, 0.6, 200))
    c_a[:3], c_b[:3] = 0, 0
    c_a[3:6], c_b[3:6] = n_a[3:6], n_b[3:6]
    z, p = two_proportion_tests(c_a, n_a, c_b, n_b)
    for i in range(200):
        if i < 6:
            assert (z[i], p[i]) == (0.0, 1.0)
            continue
        ez, ep = proportions_ztest([c_a[i], c_b[i]], [n_a[i], n_b[i]])
        assert z[i] == pytest.approx(ez, rel=1e-9) and p[i] == pytest.approx(ep, rel=1e-9, abs=1e-300), i
