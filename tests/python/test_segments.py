"""Segment statistics against references: the cut-point scan recounted from customers with plain SQL and tested
with statsmodels, its signs, and its Holm adjustment worked by hand."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from metanprom.settings import PROJECT_DIR
from metanprom.statistics.segments import (
    choose_on_discovery_half,
    rule_conditions,
    scan_cut_points,
    two_proportion_tests,
)
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
            checked_between += "credit_score between" in rule and row.feature == "credit_score"
    between_rules = sum("credit_score between" in rule for rule in rules.values())
    assert between_rules >= 1 and checked_between == 2 * between_rules, "both bounds of each between rule checked"


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


def _candidates(confirmation: int) -> pd.DataFrame:
    """Discovery candidates worked by hand (1,000 customers in extract x's discovery half); `confirmation` sets
    every figure that involves the confirmation half, which the choice must not read."""
    rows = [  # rule, discovery-half customers and churned, selected on the discovery half
        ("a = '1' and b = '1'", 200, 120, True),  # 60 %: the best
        ("a = '1'", 300, 165, True),  # 55 %, but its conditions are contained in the best's: nested, skipped
        ("c = '1'", 200, 100, True),  # 50 %: second
        ("d = '1'", 50, 45, True),  # 90 %, but under 10 % of the half
        ("e = '1'", 200, 180, False),  # 90 %, not selected on the discovery half
        ("c = '1' and f = '1'", 200, 90, True),  # 45 %: contains the second's conditions, skipped
        ("g = '1'", 200, 80, True),  # 40 %: third
        ("h = '1'", 200, 70, True),  # 35 %: fourth, past count = 3
    ]
    frame = pd.DataFrame(
        [
            {
                "extract": "x", "segment_rule": rule, "customers_discovery": n, "churned_discovery": c,
                "bank_customers_discovery": 1000, "bank_churned_discovery": 300, "is_selected_on_discovery_half": s,
                "customers": n + confirmation, "churned": c + confirmation // 2, "is_confirmed": bool(confirmation % 2),
                "p_value_confirmation_holm": 1.0 / (1 + confirmation),
            }
            for rule, n, c, s in rows
        ]
    )  # fmt: skip
    other = frame.iloc[[3]].assign(extract="y", customers_discovery=900)  # another extract's candidate
    return pd.concat([frame, other], ignore_index=True)


def test_segments_are_chosen_on_the_discovery_half_by_the_declared_procedure() -> None:
    chosen = choose_on_discovery_half(_candidates(0), "x", count=3)
    assert list(chosen["segment_rule"]) == ["a = '1' and b = '1'", "c = '1'", "g = '1'"]
    # Wilson's lower bound for 120 of 200, worked by hand: (p + z²/2n − z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n)
    assert chosen["churn_rate_ci_low_discovery"].iloc[0] == pytest.approx(0.5308367203926201, rel=1e-9)
    # nothing of the confirmation half moves the choice
    for confirmation in (1, 7, 5000):
        again = choose_on_discovery_half(_candidates(confirmation), "x", count=3)
        assert list(again["segment_rule"]) == list(chosen["segment_rule"])


def test_the_churn_prone_rules_are_those_the_procedure_chooses_on_the_real_discovery_half(real_warehouse: Path) -> None:
    """The shipped churn_prone scheme (seeds/segment_definitions.csv, chosen_on bank_scrooge:discovery_half) is
    exactly what `choose_on_discovery_half` keeps from the real current extract's segment discovery, in order:
    where the rules came from is checkable, and the confirmation half played no part in it."""
    with (PROJECT_DIR / "seeds" / "segment_definitions.csv").open(encoding="utf-8", newline="") as handle:
        shipped = [row for row in csv.DictReader(handle) if row["scheme"] == "churn_prone"]
    shipped.sort(key=lambda row: int(row["precedence"]))
    assert {row["chosen_on"] for row in shipped} == {"bank_scrooge:discovery_half"}
    as_conditions = [
        frozenset(
            " ".join(row[f"{part}_{k}"] for part in ("feature", "operator", "value"))
            for k in (1, 2, 3)
            if row[f"feature_{k}"]
        )
        for row in shipped
    ]
    with connect(real_warehouse) as con:
        discovery = con.execute("select * from segment_discovery").df()
    chosen = choose_on_discovery_half(discovery, "bank_scrooge", count=len(shipped))
    assert [frozenset(map(_as_rule, rule_conditions(rule))) for rule in chosen["segment_rule"]] == as_conditions


def _as_rule(condition: str) -> str:
    """A discovery condition as a segment definition writes it: `is_active = 'true'` as `is_active = true`, and
    a band of whole numbers (`credit_score_band = '06: 850–899'`; credit scores are integers) as the `between`
    of its bounds, which holds for the same customers."""
    feature, value = condition.split(" = ", 1)
    value = value.strip("'")
    band = re.fullmatch(r"\d+: (\d+)–(\d+)", value)
    if feature.endswith("_band") and band:
        return f"{feature.removesuffix('_band')} between {band[1]}..{band[2]}"
    return f"{feature} = {value}"
