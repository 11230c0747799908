"""The two-group tests: which test fits the measure, and each test's statistic, p-value and effect size.

scipy and statsmodels do every computation; this module chooses between
them, reports the checks behind the choice and reruns continuous tests
without the outer 1 % of values (the outlier-sensitivity check).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats
from statsmodels.stats.nonparametric import rank_compare_2indep
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from metanprom import project

CONTINUOUS_TESTS = ("mann_whitney", "welch_t")
NORMALITY_SAMPLE = 5_000
TRIM = 0.01
#: Above this many customers per group, the interval of Cliff's delta comes from a fixed subsample.
CI_SAMPLE = 200_000
SEED = project.random_seed()


class UnsuitableTestError(ValueError):
    """A named test does not fit the measure (e.g. a t-test on a 0/1 variable)."""


def measure_kind(a: np.ndarray, b: np.ndarray) -> str:
    """binary (0/1), categorical (text) or continuous."""
    if a.dtype == object or b.dtype == object:
        return "categorical"
    # one pass per group, no sort: this runs on every customer of a large extract
    if all(bool(np.all((x == 0) | (x == 1))) for x in (a, b)):
        return "binary"
    return "continuous"


def _normality_p(x: np.ndarray, seed: int = 0) -> float:
    if len(x) < 20:
        return float("nan")
    sample = x if len(x) <= NORMALITY_SAMPLE else np.random.default_rng(seed).choice(x, NORMALITY_SAMPLE, replace=False)
    if np.ptp(sample) == 0:
        return 0.0
    return float(stats.normaltest(sample).pvalue)


def checks(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """The checks behind the choice of a continuous test."""
    out: dict[str, float] = {"n_a": len(a), "n_b": len(b)}
    for name, x in (("a", a), ("b", b)):
        out[f"normality_p_{name}"] = _normality_p(x)
        out[f"skewness_{name}"] = float(stats.skew(x)) if len(x) > 2 else float("nan")
        out[f"excess_kurtosis_{name}"] = float(stats.kurtosis(x)) if len(x) > 3 else float("nan")
    var_a, var_b = (float(np.var(x, ddof=1)) if len(x) > 1 else float("nan") for x in (a, b))
    out["variance_ratio"] = var_a / var_b if var_b else float("nan")
    return out


def choose_test(kind: str, requested: str, check: dict[str, float]) -> tuple[str, str]:
    """The test to run and why."""
    if requested != "auto":
        if kind == "binary" and requested in CONTINUOUS_TESTS:
            raise UnsuitableTestError(f"{requested} on a 0/1 measure is refused: use two_proportion_z")
        if kind == "categorical" and requested != "chi_square":
            raise UnsuitableTestError(f"{requested} on a categorical measure is refused: use chi_square")
        if kind == "continuous" and requested in ("two_proportion_z", "chi_square"):
            raise UnsuitableTestError(f"{requested} on a continuous measure is refused")
        return requested, "named in the registry"
    if kind == "binary":
        return "two_proportion_z", "0/1 measure: two-proportion z-test"
    if kind == "categorical":
        return "chi_square", "categorical measure: chi-square test of independence"
    # No normality pre-test decides (testing the same data twice distorts the error rate); the rule reads
    # only the groups' sizes and shapes, and the error-rate simulation in the tests covers it as it is.
    mild = all(abs(check[f"skewness_{g}"]) <= 1.0 and abs(check[f"excess_kurtosis_{g}"]) <= 2.0 for g in ("a", "b"))
    large = min(check["n_a"], check["n_b"]) >= 30
    if mild and large:
        return (
            "welch_t",
            "both groups large, skewness <= 1 and excess kurtosis <= 2: Welch's t-test (unequal variances)",
        )
    return "mann_whitney", "small, skewed or heavy-tailed groups: Mann-Whitney U"


def run_test(
    test: str, a: np.ndarray, b: np.ndarray, with_effect: bool = True, alternative: str = "two-sided"
) -> dict[str, Any]:
    """Statistic, p-value and (unless `with_effect` is false) effect size with 95 % CI of a against b.

    `alternative`: "two-sided", or "greater" (a is higher than b): the p-value is then one-sided; the
    effect's interval stays the two-sided 95 % one."""
    out: dict[str, Any] = {}
    if alternative not in ("two-sided", "greater"):
        raise UnsuitableTestError(f"alternative {alternative!r}: expected two-sided or greater")
    if test == "mann_whitney":
        method = "asymptotic" if min(len(a), len(b)) >= 20 else "auto"
        res = stats.mannwhitneyu(a, b, alternative=alternative, method=method)
        out.update(statistic=float(res.statistic), p_value=float(res.pvalue), effect_size_name="cliffs_delta")
        if not with_effect:
            return out
        # Cliff's delta = 2 U / (n_a n_b) - 1 (ties counted half), exactly, from the test's own U.
        delta = 2 * float(res.statistic) / (len(a) * len(b)) - 1
        # Its interval from statsmodels' rank comparison; on large groups a fixed subsample of each
        # (the interval's width, not the estimate, comes from it), so the cost stays bounded.
        rng = np.random.default_rng(SEED)
        sub_a = a if len(a) <= CI_SAMPLE else rng.choice(a, CI_SAMPLE, replace=False)
        sub_b = b if len(b) <= CI_SAMPLE else rng.choice(b, CI_SAMPLE, replace=False)
        rc = rank_compare_2indep(sub_a, sub_b)
        low, high = rc.confint_lintransf(const=-1, slope=2)
        shift = delta - (2 * rc.prob1 - 1)
        out.update(
            effect_size=delta,
            effect_size_ci_low=float(max(-1.0, low + shift)),
            effect_size_ci_high=float(min(1.0, high + shift)),
        )
    elif test == "welch_t":
        # The effect the test is about: the difference in means, with Welch's own interval (unequal
        # variances, Welch-Satterthwaite degrees of freedom), not a pooled-SD standardised difference.
        res = stats.ttest_ind(a, b, equal_var=False)
        interval = res.confidence_interval(confidence_level=0.95)
        p_value = (
            res.pvalue
            if alternative == "two-sided"
            else stats.ttest_ind(a, b, equal_var=False, alternative="greater").pvalue
        )
        out.update(
            statistic=float(res.statistic),
            p_value=float(p_value),
            effect_size_name="mean_difference",
            effect_size=float(a.mean() - b.mean()),
            effect_size_ci_low=float(interval.low),
            effect_size_ci_high=float(interval.high),
        )
    elif test == "two_proportion_z":
        count = np.array([a.sum(), b.sum()])
        nobs = np.array([len(a), len(b)])
        if count.sum() in (0, nobs.sum()):
            z, p = 0.0, 1.0
        else:
            z, p = proportions_ztest(count, nobs, alternative="two-sided" if alternative == "two-sided" else "larger")
        diff_low, diff_high = confint_proportions_2indep(count[0], nobs[0], count[1], nobs[1], compare="diff")
        out.update(
            statistic=float(z),
            p_value=float(p),
            effect_size_name="difference_in_proportions",
            effect_size=float(count[0] / nobs[0] - count[1] / nobs[1]),
            effect_size_ci_low=float(diff_low),
            effect_size_ci_high=float(diff_high),
        )
        if count[1] > 0 and count[0] > 0:
            rr_low, rr_high = confint_proportions_2indep(count[0], nobs[0], count[1], nobs[1], compare="ratio")
            out.update(
                relative_risk=float((count[0] / nobs[0]) / (count[1] / nobs[1])),
                relative_risk_ci_low=float(rr_low),
                relative_risk_ci_high=float(rr_high),
            )
    elif test == "chi_square":
        if alternative != "two-sided":
            raise UnsuitableTestError("a chi-square test has no one-sided alternative")
        categories = sorted(set(a.tolist()) | set(b.tolist()))
        table = np.array([[np.sum(a == c) for c in categories], [np.sum(b == c) for c in categories]])
        res = stats.chi2_contingency(table, correction=False)
        out.update(
            statistic=float(res.statistic),
            p_value=float(res.pvalue),
            effect_size_name="cramers_v",
            effect_size=float(stats.contingency.association(table, method="cramer")),
            effect_size_ci_low=float("nan"),
            effect_size_ci_high=float("nan"),
        )
    else:
        raise UnsuitableTestError(f"unknown test {test!r}")
    return out


def trimmed(x: np.ndarray) -> np.ndarray:
    low, high = np.quantile(x, [TRIM, 1 - TRIM])
    return x[(x >= low) & (x <= high)]
