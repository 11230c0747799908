"""The two-group tests: which test fits the measure, and each test's statistic, p-value and effect size.

scipy and statsmodels do every computation. Each test takes its sufficient
statistics (rank sums, moments, counts: `metanprom.statistics.sufficient`
computes them in the engine) and returns the statistic, the p-value and the
effect size with its interval; `run_test` does the same from two arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats
from statsmodels.stats.nonparametric import rank_compare_2indep
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from metanprom import project
from metanprom.statistics.sufficient import Moments, RankSums

CONTINUOUS_TESTS = ("mann_whitney", "welch_t")
NORMALITY_SAMPLE = 5_000
#: Above this many customers per group, the interval of Cliff's delta comes from a fixed subsample.
CI_SAMPLE = 200_000
SEED = project.random_seed()


class UnsuitableTestError(ValueError):
    """A named test does not fit the measure (e.g. a t-test on a 0/1 variable)."""


def _normality_p(sample: np.ndarray, n: int) -> float:
    """D'Agostino-Pearson's normality p-value on `sample` (the group, or a fixed sample of NORMALITY_SAMPLE
    of it) of a group of n customers; reported beside the test, it decides nothing."""
    if n < 20:
        return float("nan")
    if np.ptp(sample) == 0:
        return 0.0
    return float(stats.normaltest(sample).pvalue)


def checks_from(a: Moments, b: Moments, sample_a: np.ndarray, sample_b: np.ndarray) -> dict[str, float]:
    """The checks behind the choice of a continuous test, from each group's moments and normality sample."""
    out: dict[str, float] = {"n_a": a.n, "n_b": b.n}
    for name, moments, sample in (("a", a, sample_a), ("b", b, sample_b)):
        out[f"normality_p_{name}"] = _normality_p(sample, moments.n)
        out[f"skewness_{name}"] = moments.skewness
        out[f"excess_kurtosis_{name}"] = moments.excess_kurtosis
    out["variance_ratio"] = a.variance / b.variance if b.variance else float("nan")
    return out


def checks(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """The checks of two arrays (a random NORMALITY_SAMPLE of a larger one for the normality test)."""
    rng = np.random.default_rng(0)
    samples = [x if len(x) <= NORMALITY_SAMPLE else rng.choice(x, NORMALITY_SAMPLE, replace=False) for x in (a, b)]
    return checks_from(_moments(a), _moments(b), *samples)


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
        rng = np.random.default_rng(SEED)
        sub_a = a if len(a) <= CI_SAMPLE else rng.choice(a, CI_SAMPLE, replace=False)
        sub_b = b if len(b) <= CI_SAMPLE else rng.choice(b, CI_SAMPLE, replace=False)
        out.update(cliffs_delta(delta, sub_a, sub_b))
    elif test == "welch_t":
        out.update(welch(_moments(a), _moments(b), alternative))
    elif test == "two_proportion_z":
        out.update(two_proportions(int(a.sum()), len(a), int(b.sum()), len(b), alternative))
    elif test == "chi_square":
        if alternative != "two-sided":
            raise UnsuitableTestError("a chi-square test has no one-sided alternative")
        categories = sorted(set(a.tolist()) | set(b.tolist()))
        out.update(chi_square(np.array([[np.sum(a == c) for c in categories], [np.sum(b == c) for c in categories]])))
    else:
        raise UnsuitableTestError(f"unknown test {test!r}")
    return out


def cliffs_delta(delta: float, sub_a: np.ndarray, sub_b: np.ndarray) -> dict[str, Any]:
    """Cliff's delta (= 2 U / (n_a n_b) - 1, ties counted half, from the test's own U) with its 95 % interval
    from statsmodels' rank comparison of `sub_a` and `sub_b`: the groups, or fixed subsamples of large ones
    (the interval's width, not the estimate, comes from them, so the cost stays bounded)."""
    rc = rank_compare_2indep(sub_a, sub_b)
    low, high = rc.confint_lintransf(const=-1, slope=2)
    shift = delta - (2 * rc.prob1 - 1)
    return {
        "effect_size": delta,
        "effect_size_ci_low": float(max(-1.0, low + shift)),
        "effect_size_ci_high": float(min(1.0, high + shift)),
    }


def mann_whitney(ranks: RankSums, alternative: str = "two-sided") -> tuple[float, float]:
    """U of group a and the p-value of Mann-Whitney's normal approximation (tie-corrected, with continuity),
    as scipy.stats.mannwhitneyu(method="asymptotic") computes them, from the rank sums alone."""
    n_a, n_b = ranks.n_a, ranks.n_b
    u_a = ranks.rank_sum_a - n_a * (n_a + 1) / 2
    u, factor = (u_a, 1) if alternative == "greater" else (max(u_a, n_a * n_b - u_a), 2)
    n = n_a + n_b
    sigma = np.sqrt(n_a * n_b / 12 * ((n + 1) - ranks.tie_term / (n * (n - 1))))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (u - n_a * n_b / 2 - 0.5) / sigma
    return float(u_a), float(np.clip(factor * stats.norm.sf(z), 0.0, 1.0))


def welch(a: Moments, b: Moments, alternative: str = "two-sided") -> dict[str, Any]:
    """Welch's t-test from each group's size, mean and variance (scipy), and the effect the test is about:
    the difference in means with Welch's own 95 % interval (Welch-Satterthwaite degrees of freedom), not a
    pooled-SD standardised difference."""
    sd_a, sd_b = np.sqrt(a.variance), np.sqrt(b.variance)
    res = stats.ttest_ind_from_stats(a.mean, sd_a, a.n, b.mean, sd_b, b.n, equal_var=False)
    p_value = res.pvalue
    if alternative == "greater":
        p_value = stats.ttest_ind_from_stats(
            a.mean, sd_a, a.n, b.mean, sd_b, b.n, equal_var=False, alternative="greater"
        ).pvalue
    va, vb = a.variance / a.n, b.variance / b.n
    df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    difference = a.mean - b.mean
    low, high = stats.t.interval(0.95, df, loc=difference, scale=np.sqrt(va + vb))
    return {
        "statistic": float(res.statistic),
        "p_value": float(p_value),
        "effect_size_name": "mean_difference",
        "effect_size": float(difference),
        "effect_size_ci_low": float(low),
        "effect_size_ci_high": float(high),
    }


def two_proportions(count_a: int, n_a: int, count_b: int, n_b: int, alternative: str = "two-sided") -> dict[str, Any]:
    """Two-proportion z-test (statsmodels), the difference in proportions with Newcombe's interval and the
    relative risk with its interval, from the counts."""
    count, nobs = np.array([count_a, count_b]), np.array([n_a, n_b])
    if count.sum() in (0, nobs.sum()):
        z, p = 0.0, 1.0
    else:
        z, p = proportions_ztest(count, nobs, alternative="two-sided" if alternative == "two-sided" else "larger")
    diff_low, diff_high = confint_proportions_2indep(count_a, n_a, count_b, n_b, compare="diff")
    out: dict[str, Any] = {
        "statistic": float(z),
        "p_value": float(p),
        "effect_size_name": "difference_in_proportions",
        "effect_size": float(count_a / n_a - count_b / n_b),
        "effect_size_ci_low": float(diff_low),
        "effect_size_ci_high": float(diff_high),
    }
    if count_a > 0 and count_b > 0:
        rr_low, rr_high = confint_proportions_2indep(count_a, n_a, count_b, n_b, compare="ratio")
        out.update(
            relative_risk=float((count_a / n_a) / (count_b / n_b)),
            relative_risk_ci_low=float(rr_low),
            relative_risk_ci_high=float(rr_high),
        )
    return out


def chi_square(table: np.ndarray) -> dict[str, Any]:
    """Chi-square test of independence (no continuity correction) and Cramér's V, from a 2 x k table."""
    res = stats.chi2_contingency(table, correction=False)
    return {
        "statistic": float(res.statistic),
        "p_value": float(res.pvalue),
        "effect_size_name": "cramers_v",
        "effect_size": float(stats.contingency.association(table, method="cramer")),
        "effect_size_ci_low": float("nan"),
        "effect_size_ci_high": float("nan"),
    }


def _moments(x: np.ndarray) -> Moments:
    centred = x - x.mean()
    return Moments(len(x), float(x.mean()), *(float(np.sum(centred**k)) for k in (2, 3, 4)))
