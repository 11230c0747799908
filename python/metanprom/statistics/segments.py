"""Segment statistics that need a test: cut-point scans and segment discovery.

Both work on small aggregates that DuckDB computed (histograms, grouping
sets), never on customer rows, so their cost does not grow with the extract.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint, proportions_ztest, test_proportions_2indep

from metanprom.statistics.multiple_testing import adjusted_p_values

DISCOVERY_FEATURES = (
    "city", "gender", "product_count", "property_score", "has_credit_card", "is_active", "has_balance",
    "age_band", "credit_score_band", "balance_band", "estimated_salary_band",
)  # fmt: skip
MAX_CANDIDATES = 120


def two_proportion_test(churned_a: int, n_a: int, churned_b: int, n_b: int) -> tuple[float, float]:
    """z statistic (positive when A churns more) and two-sided p-value of churn in A vs B (pooled z-test)."""
    if n_a == 0 or n_b == 0:
        return float("nan"), float("nan")
    total = churned_a + churned_b
    if total in (0, n_a + n_b):
        return 0.0, 1.0
    z, p = proportions_ztest(np.array([churned_a, churned_b]), np.array([n_a, n_b]))
    return float(z), float(p)


def two_proportion_tests(
    churned_a: np.ndarray, n_a: np.ndarray, churned_b: np.ndarray, n_b: np.ndarray, alternative: str = "two-sided"
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised pooled two-proportion z-tests (statsmodels' score test without correction, which is
    the pooled z-test); z = 0 and p = 1 where both groups are all churned or all retained.
    `alternative`: "two-sided", or "larger" (A churns more than B)."""
    churned_a, n_a, churned_b, n_b = (np.asarray(x, dtype=float) for x in (churned_a, n_a, churned_b, n_b))
    degenerate = (churned_a + churned_b == 0) | (churned_a + churned_b == n_a + n_b) | (n_a == 0) | (n_b == 0)
    safe = np.where(degenerate, 1.0, 0.0)
    with np.errstate(all="ignore"):
        result = test_proportions_2indep(
            churned_a + safe,
            n_a + 2 * safe,
            churned_b + safe,
            n_b + 2 * safe,
            method="score",
            correction=False,
            alternative=alternative,
        )
    z = np.where(degenerate, 0.0, np.asarray(result.statistic, dtype=float))
    p = np.where(degenerate, 1.0, np.asarray(result.pvalue, dtype=float))
    return z, p


def _one_sided_vs_rest(
    frame: pd.DataFrame, family: list[str], customers: str, churned: str, bank_customers: str, bank_churned: str
) -> tuple[np.ndarray, np.ndarray]:
    """One-sided p-values of each group (`churned` of `customers`) churning more than the rest of its extract
    (`bank_churned` of `bank_customers` minus the group's own), and their Holm adjustment within `family`."""
    rest_churned = frame[bank_churned] - frame[churned]
    rest_customers = frame[bank_customers] - frame[customers]
    _, p = two_proportion_tests(frame[churned], frame[customers], rest_churned, rest_customers, alternative="larger")
    p = np.asarray(p, dtype=float)
    holm = np.full(len(frame), np.nan)
    for _, positions in frame.reset_index(drop=True).groupby(family).indices.items():
        holm[positions] = adjusted_p_values(p[positions], "holm")
    return p, holm


def tested_against_rest(frame: pd.DataFrame, family: list[str], alpha: float = 0.05) -> pd.DataFrame:
    """Does each group churn more than the customers outside it? One-sided pooled two-proportion z-test
    (statsmodels) of the group (`churned` of `customers`) against the rest of its extract (`bank_churned`
    of `bank_customers` minus the group's own), and Holm over every row of a `family`.

    Adds `p_value_vs_rest`, `p_value_vs_rest_holm` and `is_above_bank_rate` (the adjusted p-value below
    alpha): a group compared with a bank rate that includes it, row by row without adjustment, would be
    flagged too often.
    """
    out = frame.copy()
    p, holm = _one_sided_vs_rest(out, family, "customers", "churned", "bank_customers", "bank_churned")
    out["p_value_vs_rest"] = p
    out["p_value_vs_rest_holm"] = holm
    out["is_above_bank_rate"] = out["p_value_vs_rest_holm"] < alpha
    return out


def tested_on_confirmation_half(frame: pd.DataFrame, family: list[str], alpha: float = 0.05) -> pd.DataFrame:
    """The same test on the confirmation half alone (macro is_confirmation_half): each group's
    `confirmation_half_churned` of `confirmation_half_customers` against the rest of that half of its extract
    (`bank_confirmation_half_*`), one-sided, Holm within `family`. For a rule chosen on the other half (the
    discovery half) this is its confirmation on data it was not chosen on.

    Adds `p_value_confirmation_half`, `p_value_confirmation_half_holm` and `is_confirmed_on_confirmation_half`.
    """
    out = frame.copy()
    p, holm = _one_sided_vs_rest(
        out, family, "confirmation_half_customers", "confirmation_half_churned",
        "bank_confirmation_half_customers", "bank_confirmation_half_churned",
    )  # fmt: skip
    out["p_value_confirmation_half"] = p
    out["p_value_confirmation_half_holm"] = holm
    out["is_confirmed_on_confirmation_half"] = out["p_value_confirmation_half_holm"] < alpha
    return out


def scan_cut_points(histograms: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Churn either side of every candidate cut of each segment threshold.

    `histograms`: one row per (extract, scheme, segment_id, feature, operator,
    chosen_cut, value, is_left_of_chosen) with `customers` and `churned`: the
    segment's population (its other conditions, and the other bound of a
    `between`) by value of the thresholded feature; money comes in buckets of
    1,000 whose edges are the candidate cuts, and `is_left_of_chosen` is each
    customer's exact side of the chosen cut. The left side of a cut t is
    `value <= t` for the operators <= and >, `value < t` for >= and <.
    Candidates: the distinct values between the 5th and 95th percentile of the
    population (at most MAX_CANDIDATES, evenly spread), and the chosen cut.

    Signs: `churn_rate_difference` and `z_statistic` are both right minus left.
    Multiplicity: every candidate of a threshold is a test; `p_value_holm`
    adjusts them together (Holm) and `is_significant` reads it. The sharpest
    candidate (`abs_z_rank` 1) was picked by looking at all of them: its
    adjusted p-value is the honest one, its raw p-value is optimistic.
    """
    keys = ["extract", "scheme", "segment_id", "feature", "operator", "chosen_cut"]
    out = []
    for key, group in histograms.groupby(keys, sort=True):
        operator, chosen = key[4], float(key[5])
        by_value = group.groupby("value", sort=True)[["customers", "churned"]].sum()
        values = by_value.index.to_numpy(dtype=float)
        n = by_value["customers"].to_numpy(dtype=np.int64)
        churned = by_value["churned"].to_numpy(dtype=np.int64)
        cum_share = np.cumsum(n) / n.sum()
        inner = values[(cum_share >= 0.05) & (cum_share <= 0.95)]
        if len(inner) > MAX_CANDIDATES:
            inner = inner[np.linspace(0, len(inner) - 1, MAX_CANDIDATES).round().astype(int)]
        inclusive = operator in ("<=", ">")
        rows = []
        for cut in np.unique(np.append(inner, chosen)):
            is_chosen = bool(np.isclose(cut, chosen))
            if is_chosen:  # the exact side of each customer, whatever bucket its value is in
                left_rows = group["is_left_of_chosen"].to_numpy(dtype=bool)
                n_left = int(group["customers"][left_rows].sum())
                c_left = int(group["churned"][left_rows].sum())
            else:
                left = values <= cut if inclusive else values < cut
                n_left, c_left = int(n[left].sum()), int(churned[left].sum())
            n_right, c_right = int(n.sum()) - n_left, int(churned.sum()) - c_left
            if n_left == 0 or n_right == 0:
                continue
            z, p = two_proportion_test(c_right, n_right, c_left, n_left)
            rows.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "candidate_cut": float(cut),
                    "is_chosen_cut": is_chosen,
                    "customers_left": n_left,
                    "churn_rate_left": c_left / n_left,
                    "customers_right": n_right,
                    "churn_rate_right": c_right / n_right,
                    "churn_rate_difference": c_right / n_right - c_left / n_left,
                    "z_statistic": z,
                    "p_value": p,
                }
            )
        if rows:
            holm = adjusted_p_values([r["p_value"] for r in rows], "holm")
            for row, adjusted in zip(rows, holm, strict=True):
                row["p_value_holm"] = float(adjusted)
                row["is_significant"] = bool(adjusted < alpha)
                row["candidates_tested"] = len(rows)
            out += rows
    frame = pd.DataFrame(out)
    if frame.empty:
        return frame
    frame["abs_z_rank"] = (
        frame.groupby(keys)["z_statistic"].transform(lambda s: s.abs().rank(ascending=False, method="min"))
    ).astype("int64")
    return frame


def discover_segments(candidates: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Test every candidate segment against the rest of its extract; Holm over all of them; and an honest
    split: candidates selected on one half of the customers are confirmed on the other.

    `candidates`: one row per (extract, feature combination, values) with `customers`, `churned`,
    `bank_customers`, `bank_churned`, and the same counts in the discovery half (`*_discovery`; the
    halves are chosen by the md5 of the customer key, macro sample_order). Adds, on all customers (exploratory: every
    candidate was looked at): the two-proportion z-test of the segment vs the rest, the Holm-adjusted
    p-value over every candidate of the extract, lift, excess churners and the rank among significant
    ones by excess churners. And the split: selected where the discovery half alone says the segment
    churns more than the rest (one-sided, Holm over every candidate); confirmed where the other half,
    which played no part in the selection, says so too (one-sided, Holm over the selected ones).
    """
    columns = dict(
        churn_rate=[], bank_churn_rate=[], lift=[], excess_churners=[], z_statistic=[], p_value=[],
        p_value_holm=[], is_significant=[], discovery_rank=[], p_value_discovery_holm=[],
        is_selected_on_discovery_half=[], p_value_confirmation=[], p_value_confirmation_holm=[], is_confirmed=[],
    )  # fmt: skip
    if candidates.empty:
        return candidates.assign(**columns)
    frame = candidates.reset_index(drop=True)
    frame["z_statistic"], frame["p_value"] = two_proportion_tests(
        frame["churned"], frame["customers"], frame["bank_churned"] - frame["churned"],
        frame["bank_customers"] - frame["customers"],
    )  # fmt: skip
    frame["churn_rate"] = frame["churned"] / frame["customers"]
    frame["bank_churn_rate"] = frame["bank_churned"] / frame["bank_customers"]
    frame["lift"] = frame["churn_rate"] / frame["bank_churn_rate"]
    frame["excess_churners"] = frame["churned"] - frame["customers"] * frame["bank_churn_rate"]
    frame["p_value_holm"] = np.nan
    for _, index in frame.groupby("extract").groups.items():
        pvals = frame.loc[index, "p_value"].fillna(1.0).to_numpy()
        frame.loc[index, "p_value_holm"] = adjusted_p_values(pvals, "holm")
    frame["is_significant"] = (frame["p_value_holm"] < alpha) & (frame["churn_rate"] > frame["bank_churn_rate"])
    frame["discovery_rank"] = (
        frame["excess_churners"].where(frame["is_significant"]).groupby(frame["extract"]).rank(ascending=False)
    )
    frame["discovery_rank"] = frame["discovery_rank"].round().astype("Int64")

    # the split: selection on the discovery half, confirmation on the other
    n_d, c_d = frame["customers_discovery"], frame["churned_discovery"]
    bank_n_d, bank_c_d = frame["bank_customers_discovery"], frame["bank_churned_discovery"]
    _, p_discovery = two_proportion_tests(c_d, n_d, bank_c_d - c_d, bank_n_d - n_d, alternative="larger")
    n_c, c_c = frame["customers"] - n_d, frame["churned"] - c_d
    bank_n_c, bank_c_c = frame["bank_customers"] - bank_n_d, frame["bank_churned"] - bank_c_d
    _, p_confirmation = two_proportion_tests(c_c, n_c, bank_c_c - c_c, bank_n_c - n_c, alternative="larger")
    frame["p_value_discovery_holm"] = np.nan
    frame["p_value_confirmation"] = np.nan
    frame["p_value_confirmation_holm"] = np.nan
    for _, index in frame.groupby("extract").groups.items():
        frame.loc[index, "p_value_discovery_holm"] = adjusted_p_values(np.asarray(p_discovery)[index], "holm")
    frame["is_selected_on_discovery_half"] = frame["p_value_discovery_holm"] < alpha
    for _, index in frame[frame["is_selected_on_discovery_half"]].groupby("extract").groups.items():
        chosen = np.asarray(p_confirmation)[index]
        frame.loc[index, "p_value_confirmation"] = chosen
        frame.loc[index, "p_value_confirmation_holm"] = adjusted_p_values(chosen, "holm")
    frame["is_confirmed"] = frame["p_value_confirmation_holm"] < alpha
    return frame


def rule_conditions(segment_rule: str) -> frozenset[str]:
    """The conditions of a discovery candidate's rule (`a = 'x' and b = 'y'`), as a set."""
    return frozenset(condition.strip() for condition in segment_rule.split(" and "))


def choose_on_discovery_half(
    discovery: pd.DataFrame, extract: str, count: int = 4, min_share: float = 0.10, alpha: float = 0.05
) -> pd.DataFrame:
    """The segments to promote from `segment_discovery` on `extract`, chosen on the discovery half alone, so
    that the other half (the confirmation half, macro is_confirmation_half) can confirm them.

    The procedure, declared before looking at any result of the confirmation half: among the candidates the
    discovery half selects (one-sided, Holm over every candidate: `is_selected_on_discovery_half`) that hold
    at least `min_share` of that half's customers, rank by the lower bound of the Wilson interval of their
    churn rate on that half (1 - alpha; the segments most surely churning most, ties by rule text); go down
    the ranking and keep a candidate unless its conditions contain, or are contained in, those of one kept
    already (no segment nested in another); stop at `count`. Reads only the `*_discovery` columns and
    `is_selected_on_discovery_half`, which are computed on that half alone. Returns the kept rows, best first,
    with `churn_rate_ci_low_discovery`.
    """
    half = discovery[(discovery["extract"] == extract) & discovery["is_selected_on_discovery_half"].astype(bool)]
    half = half[half["customers_discovery"] >= min_share * half["bank_customers_discovery"]].copy()
    low, _ = proportion_confint(half["churned_discovery"], half["customers_discovery"], alpha=alpha, method="wilson")
    half["churn_rate_ci_low_discovery"] = np.asarray(low, dtype=float)
    ranked = half.sort_values(["churn_rate_ci_low_discovery", "segment_rule"], ascending=[False, True])
    kept: list[frozenset[str]] = []
    rows = []
    for index, rule in ranked["segment_rule"].items():
        conditions = rule_conditions(rule)
        if any(conditions <= other or other <= conditions for other in kept):
            continue
        kept.append(conditions)
        rows.append(index)
        if len(rows) == count:
            break
    return ranked.loc[rows]
