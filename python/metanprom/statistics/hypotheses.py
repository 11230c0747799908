"""Hypothesis tests declared in a registry (the `hypothesis_results` model's properties), run on `customers`.

For each hypothesis and extract: load only the measure of the two groups
(DuckDB, read-only), choose the test by the data (or use the one named),
report the checks behind the choice, the effect size with its 95 % interval,
the p-value adjusted within the hypothesis' family, an outlier-sensitivity
rerun, and one sentence of conclusion in English and in Russian.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import yaml
from scipy import stats
from statsmodels.stats.nonparametric import rank_compare_2indep
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from metanprom import project
from metanprom.ingest.formats import FORMATS
from metanprom.settings import PROJECT_DIR
from metanprom.sqltext import sql_string
from metanprom.statistics.multiple_testing import adjusted_p_values

TESTS = ("auto", "mann_whitney", "welch_t", "two_proportion_z", "chi_square")
CONTINUOUS_TESTS = ("mann_whitney", "welch_t")
NORMALITY_SAMPLE = 5_000
TRIM = 0.01
#: Above this many customers per group, the interval of Cliff's delta comes from a fixed subsample.
CI_SAMPLE = 200_000
SEED = project.random_seed()
EXTRACTS = tuple(FORMATS)


class RegistryError(ValueError):
    """The registry file is not valid; the message names the file, the entry and the field."""


class UnsuitableTestError(ValueError):
    """A named test does not fit the measure (e.g. a t-test on a 0/1 variable)."""


@dataclass
class Group:
    where: str
    label_en: str
    label_ru: str


@dataclass
class Hypothesis:
    id: str
    question_en: str
    question_ru: str
    extracts: list[str]
    measure: str
    measure_en: str
    measure_ru: str
    a: Group
    b: Group
    test: str
    alpha: float
    family: str
    measure_value: str | None = None
    #: "two-sided", or "greater": the question asks whether group a is higher than b
    alternative: str = "two-sided"
    #: extracts this hypothesis was formed on by looking at them: its results there are exploratory
    exploratory_on: tuple[str, ...] = ()


@dataclass
class Registry:
    path: str
    correction: str
    hypotheses: list[Hypothesis] = field(default_factory=list)

    def get(self, hypothesis_id: str) -> Hypothesis:
        for h in self.hypotheses:
            if h.id == hypothesis_id:
                return h
        raise RegistryError(
            f"{self.path}: no hypothesis with id {hypothesis_id!r}; known: {', '.join(h.id for h in self.hypotheses)}"
        )


#: The registry lives in the `hypothesis_results` model's properties (`config.meta.registry`), where dbt
#: sees it: in the docs, the manifest and `state:modified`.
REGISTRY_FILE = PROJECT_DIR / "models" / "marts" / "hypotheses" / "_hypotheses__models.yml"
REGISTRY_MODEL = "hypothesis_results"


def default_registry_path() -> Path:
    return REGISTRY_FILE


def _group(path: str, hid: str, name: str, spec: Any) -> Group:
    where_ = f"{path}: hypothesis {hid!r}, group {name}"
    if not isinstance(spec, dict):
        raise RegistryError(f"{where_}: expected a mapping with where (or segment), label_en, label_ru")
    for key in ("label_en", "label_ru"):
        if not spec.get(key):
            raise RegistryError(f"{where_}: missing {key}")
    if "segment" in spec:
        seg = spec["segment"]
        if not isinstance(seg, dict) or not seg.get("scheme") or not seg.get("segment_id"):
            raise RegistryError(f"{where_}: segment needs scheme and segment_id")
        scheme = sql_string(str(seg["scheme"]))
        segment = sql_string(str(seg["segment_id"]))
        # dashboard_customers has one row per segment membership: the segment's own customers in an
        # exclusive scheme, every customer whose rule holds in an overlapping one (as segment_summary counts)
        member = (
            "customer_key in (select s.customer_key from dashboard_customers as s where s.extract = customers.extract"
            f" and s.scheme = {scheme} and s.segment_id = {segment})"
        )
        where = f"not ({member})" if spec.get("rest") else member
    elif spec.get("where"):
        where = str(spec["where"])
    else:
        raise RegistryError(f"{where_}: needs where (SQL over customers) or segment")
    return Group(where=where, label_en=str(spec["label_en"]), label_ru=str(spec["label_ru"]))


def load_registry(path: str | Path | None = None) -> Registry:
    """Read and validate the registry; errors name the file, the hypothesis and the field."""
    path = Path(path) if path else default_registry_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RegistryError(f"{path}: cannot be read as YAML: {error}") from error
    if isinstance(data, dict) and "models" in data:  # a dbt properties file: the model's config.meta.registry
        model = next((m for m in data["models"] or [] if m.get("name") == REGISTRY_MODEL), None)
        data = ((model or {}).get("config") or {}).get("meta", {}).get("registry")
        if data is None:
            raise RegistryError(f"{path}: model {REGISTRY_MODEL} has no config.meta.registry")
    return registry_from_data(data, path)


def registry_from_data(data: Any, path: str | Path) -> Registry:
    """Validate a registry already read (`path` names where it came from, in every error)."""
    if not isinstance(data, dict) or not isinstance(data.get("hypotheses"), list):
        raise RegistryError(f"{path}: expected a mapping with a list under 'hypotheses'")
    defaults = data.get("defaults") or {}
    correction = str(defaults.get("correction", "holm"))
    if correction not in ("holm", "fdr_bh"):
        raise RegistryError(f"{path}: defaults.correction must be holm or fdr_bh, not {correction!r}")
    registry = Registry(path=str(path), correction=correction)
    seen: set[str] = set()
    for index, entry in enumerate(data["hypotheses"], start=1):
        if not isinstance(entry, dict) or not entry.get("id"):
            raise RegistryError(f"{path}: hypothesis number {index} has no id")
        hid = str(entry["id"])
        if hid in seen:
            raise RegistryError(f"{path}: hypothesis id {hid!r} is declared twice")
        seen.add(hid)
        for key in ("question_en", "question_ru", "measure", "groups", "family"):
            if not entry.get(key):
                raise RegistryError(f"{path}: hypothesis {hid!r}: missing {key}")
        test = str(entry.get("test", "auto"))
        if test not in TESTS:
            raise RegistryError(f"{path}: hypothesis {hid!r}: test {test!r} is not one of {', '.join(TESTS)}")
        extracts = entry.get("extracts") or list(EXTRACTS)
        unknown = [e for e in extracts if e not in EXTRACTS]
        if unknown:
            raise RegistryError(f"{path}: hypothesis {hid!r}: unknown extracts {unknown}")
        groups = entry["groups"]
        if not isinstance(groups, dict) or set(groups) != {"a", "b"}:
            raise RegistryError(f"{path}: hypothesis {hid!r}: groups must have exactly a and b")
        alpha = float(entry.get("alpha", defaults.get("alpha", 0.05)))
        if not 0 < alpha < 1:
            raise RegistryError(f"{path}: hypothesis {hid!r}: alpha must be between 0 and 1")
        alternative = str(entry.get("alternative", "two-sided"))
        if alternative not in ("two-sided", "greater"):
            raise RegistryError(f"{path}: hypothesis {hid!r}: alternative must be two-sided or greater")
        if alternative != "two-sided" and test == "chi_square":
            raise RegistryError(f"{path}: hypothesis {hid!r}: a chi-square test has no one-sided alternative")
        exploratory_on = entry.get("exploratory_on") or []
        if [e for e in exploratory_on if e not in EXTRACTS]:
            raise RegistryError(f"{path}: hypothesis {hid!r}: unknown extracts in exploratory_on")
        registry.hypotheses.append(
            Hypothesis(
                id=hid,
                question_en=str(entry["question_en"]),
                question_ru=str(entry["question_ru"]),
                extracts=list(extracts),
                measure=str(entry["measure"]),
                measure_en=str(entry.get("measure_en", entry["measure"])),
                measure_ru=str(entry.get("measure_ru", entry["measure"])),
                a=_group(str(path), hid, "a", groups["a"]),
                b=_group(str(path), hid, "b", groups["b"]),
                test=test,
                alpha=alpha,
                family=str(entry["family"]),
                measure_value=None if entry.get("measure_value") is None else str(entry["measure_value"]),
                alternative=alternative,
                exploratory_on=tuple(exploratory_on),
            )
        )
    return registry


# --------------------------------------------------------------------------- data


def load_groups(customers: duckdb.DuckDBPyRelation, h: Hypothesis, extract: str) -> tuple[np.ndarray, np.ndarray]:
    """The measure of group a and group b in one extract; only that column is read."""
    measure = h.measure
    if h.measure_value is not None:
        measure = f"({h.measure} = {sql_string(h.measure_value)})::int"
    customers = customers.set_alias("customers")  # segment groups refer to it by that name
    rel = customers.filter(
        f"extract = {sql_string(extract)} and (({h.a.where}) or ({h.b.where})) and {h.measure} is not null"
    )
    # one scan: both memberships and the measure; the overlap is counted from the memberships
    data = rel.project(
        f"coalesce(({h.a.where}), false) as in_a, coalesce(({h.b.where}), false) as in_b, {measure} as y"
    ).fetchnumpy()
    in_a = np.asarray(data["in_a"], dtype=bool)
    overlap = int(np.count_nonzero(in_a & np.asarray(data["in_b"], dtype=bool)))
    if overlap:
        raise RegistryError(f"hypothesis {h.id!r}: {overlap} customers of {extract} are in both groups")
    y = data["y"]
    if y.dtype == bool:
        y = y.astype(np.int64)
    if y.dtype.kind in "OUS":
        return np.asarray(y[in_a], dtype=object), np.asarray(y[~in_a], dtype=object)
    return np.asarray(y[in_a], dtype=float), np.asarray(y[~in_a], dtype=float)


# --------------------------------------------------------------------------- tests


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


def _trimmed(x: np.ndarray) -> np.ndarray:
    low, high = np.quantile(x, [TRIM, 1 - TRIM])
    return x[(x >= low) & (x <= high)]


# --------------------------------------------------------------------------- words


def _fmt(value: float, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if kind == "binary":
        return f"{value * 100:.1f} %"
    return f"{value:,.0f}".replace(",", " ") if abs(value) >= 100 else f"{value:.2f}"


def _p(p: float) -> str:
    return f"{p:.2g}" if p >= 0.0001 else "< 0.0001"


def _p_phrase(p: float) -> str:
    return f"= {p:.2g}" if p >= 0.0001 else "< 0.0001"


def conclusions(h: Hypothesis, row: dict[str, Any]) -> tuple[str, str]:
    """One sentence in English and one in Russian."""
    kind = row["measure_kind"]
    if kind == "binary":
        va, vb, what_en, what_ru = row["proportion_a"], row["proportion_b"], "", ""
    elif row["test"] == "welch_t":
        va, vb, what_en, what_ru = row["mean_a"], row["mean_b"], "mean ", "среднее: "
    elif kind == "continuous":
        va, vb, what_en, what_ru = row["median_a"], row["median_b"], "median ", "медиана: "
    else:
        va = vb = float("nan")
        what_en = what_ru = ""
    a_en, b_en, a_ru, b_ru = h.a.label_en, h.b.label_en, h.a.label_ru, h.b.label_ru
    p = _p_phrase(row["p_value_adjusted"])
    shown = f"{what_en}{_fmt(va, kind)} vs {_fmt(vb, kind)}"
    shown_ru = f"{what_ru}{_fmt(va, kind)} против {_fmt(vb, kind)}"
    if row["reject_null"]:
        if kind == "categorical":
            return (
                f"The distribution of {h.measure_en} differs between {a_en} and {b_en} (adjusted p {p}).",
                f"Распределение показателя «{h.measure_ru}» различается у групп «{a_ru}» и «{b_ru}» "
                f"(скорректированное p {p}).",
            )
        # The direction is the effect's (difference in proportions, Cliff's delta, difference in means: all a minus b),
        # never the medians': tied medians say nothing of which group is higher.
        effect = row.get("effect_size")
        if effect is None or math.isnan(effect) or effect == 0:
            return (
                f"{h.measure_en.capitalize()} differs between {a_en} and {b_en} ({shown}); "
                f"the difference is significant (adjusted p {p}).",
                f"Показатель «{h.measure_ru}» различается у групп «{a_ru}» и «{b_ru}» ({shown_ru}); "
                f"различие статистически значимо (скорректированное p {p}).",
            )
        direction_en = "higher" if effect > 0 else "lower"
        direction_ru = "выше" if effect > 0 else "ниже"
        return (
            f"{h.measure_en.capitalize()} is {direction_en} among {a_en} than among {b_en} ({shown}); "
            f"the difference is significant (adjusted p {p}).",
            f"Показатель «{h.measure_ru}» у группы «{a_ru}» {direction_ru}, чем у группы «{b_ru}» ({shown_ru}); "
            f"различие статистически значимо (скорректированное p {p}).",
        )
    return (
        f"No significant difference in {h.measure_en} between {a_en} and {b_en} ({shown}, adjusted p {p}).",
        f"Значимого различия в показателе «{h.measure_ru}» между группами «{a_ru}» и «{b_ru}» нет "
        f"({shown_ru}, скорректированное p {p}).",
    )


# --------------------------------------------------------------------------- registry run


def evaluate_hypothesis(h: Hypothesis, a: np.ndarray, b: np.ndarray, extract: str) -> dict[str, Any]:
    """Every figure of one hypothesis on one extract (before multiple-testing adjustment)."""
    row: dict[str, Any] = {
        "hypothesis_id": h.id,
        "extract": extract,
        "family": h.family,
        "question_en": h.question_en,
        "question_ru": h.question_ru,
        "measure": h.measure,
        "measure_value": h.measure_value,
        "group_a_en": h.a.label_en,
        "group_b_en": h.b.label_en,
        "group_a_ru": h.a.label_ru,
        "group_b_ru": h.b.label_ru,
        "n_a": len(a),
        "n_b": len(b),
        "alpha": h.alpha,
        "alternative": h.alternative,
        "evidence": "exploratory" if extract in h.exploratory_on else "confirmatory",
    }
    if min(len(a), len(b)) < 2:
        row.update(status=f"skipped: a group has fewer than 2 customers in {extract}", test=None, measure_kind=None)
        return row
    kind = measure_kind(a, b)
    row["measure_kind"] = kind
    if kind == "continuous":
        # Sorted once: no statistic depends on the order within a group, and on sorted groups the ranking
        # inside Mann-Whitney (a stable sort of a followed by b) and the trimmed rerun cost a merge, not a sort.
        a, b = np.sort(a), np.sort(b)
        row.update(checks(a, b))
        row.update(mean_a=float(a.mean()), mean_b=float(b.mean()), median_a=float(np.median(a)))
        row["median_b"] = float(np.median(b))
    elif kind == "binary":
        row.update(proportion_a=float(a.mean()), proportion_b=float(b.mean()))
    test, reason = choose_test(kind, h.test, row if kind == "continuous" else {})
    row.update(test=test, test_reason=reason, status="tested")
    row.update(run_test(test, a, b, alternative=h.alternative))
    if test in CONTINUOUS_TESTS:
        ta, tb = _trimmed(a), _trimmed(b)
        row["p_value_trimmed"] = run_test(test, ta, tb, with_effect=False, alternative=h.alternative)["p_value"]
        row["decision_changes_when_trimmed"] = bool((row["p_value"] < h.alpha) != (row["p_value_trimmed"] < h.alpha))
    return row


RESULT_COLUMNS = [
    "hypothesis_id", "extract", "family", "question_en", "question_ru", "measure", "measure_value",
    "measure_kind", "group_a_en", "group_b_en", "group_a_ru", "group_b_ru", "status", "test", "test_reason",
    "n_a", "n_b", "mean_a", "mean_b", "median_a", "median_b", "proportion_a", "proportion_b",
    "normality_p_a", "normality_p_b", "skewness_a", "skewness_b", "excess_kurtosis_a", "excess_kurtosis_b",
    "variance_ratio", "statistic", "p_value", "effect_size_name", "effect_size", "effect_size_ci_low",
    "effect_size_ci_high", "relative_risk", "relative_risk_ci_low", "relative_risk_ci_high", "alpha",
    "correction", "p_value_adjusted", "reject_null", "p_value_trimmed", "decision_changes_when_trimmed",
    "conclusion_en", "conclusion_ru", "alternative", "evidence",
]  # fmt: skip


def adjust(frame: pd.DataFrame, correction: str) -> pd.DataFrame:
    """Adjusted p-values within each family and extract; the decision at each hypothesis' alpha."""
    frame = frame.copy()
    frame["correction"] = correction
    frame["p_value_adjusted"] = np.nan
    tested = frame["status"] == "tested"
    for _, index in frame[tested].groupby(["family", "extract"]).groups.items():
        frame.loc[index, "p_value_adjusted"] = adjusted_p_values(frame.loc[index, "p_value"], correction)
    frame["reject_null"] = tested & (frame["p_value_adjusted"] < frame["alpha"])
    return frame


def run_registry(
    customers: duckdb.DuckDBPyRelation,
    registry: Registry | None = None,
    ids: list[str] | None = None,
    extracts: list[str] | None = None,
) -> pd.DataFrame:
    """Run every hypothesis (or those in `ids`) on every extract it applies to; one row per pair."""
    registry = registry or load_registry()
    wanted = [registry.get(i).id for i in ids] if ids else None
    # Adjustment needs the whole family: run every hypothesis of the families asked for, show those asked for.
    families = {registry.get(i).family for i in ids} if ids else None
    chosen = [h for h in registry.hypotheses if families is None or h.family in families]
    present = {r[0] for r in customers.project("extract").distinct().fetchall()}
    rows = []
    by_id = {h.id: h for h in chosen}
    for h in chosen:
        for extract in h.extracts:
            if extract not in present or (extracts and extract not in extracts):
                continue
            a, b = load_groups(customers, h, extract)
            rows.append(evaluate_hypothesis(h, a, b, extract))
    frame = pd.DataFrame(rows)
    for column in RESULT_COLUMNS:
        if column not in frame:
            frame[column] = None
    frame = adjust(frame, registry.correction)
    sentences = [
        conclusions(by_id[r["hypothesis_id"]], r) if r["status"] == "tested" else (r["status"], r["status"])
        for r in frame.to_dict("records")
    ]
    frame["conclusion_en"] = [s[0] for s in sentences]
    frame["conclusion_ru"] = [s[1] for s in sentences]
    frame = frame[RESULT_COLUMNS]
    if wanted is not None:
        frame = frame[frame["hypothesis_id"].isin(wanted)].reset_index(drop=True)
    for column in ("n_a", "n_b"):
        frame[column] = frame[column].astype("int64")
    for column in ("reject_null",):
        frame[column] = frame[column].astype(bool)
    frame["decision_changes_when_trimmed"] = frame["decision_changes_when_trimmed"].astype("boolean")
    return frame


EFFECT_LABELS = {
    "cliffs_delta": "Cliff's delta",
    "mean_difference": "diff. in means",
    "difference_in_proportions": "diff. in shares",
    "cramers_v": "Cramer's V",
}


def results_table(frame: pd.DataFrame) -> str:
    """A readable fixed-width table of results."""
    lines = [
        f"{'hypothesis':<36}{'extract':<14}{'test':<18}{'n a':>8}{'n b':>8}{'p adj':>10}  "
        f"{'effect (95 % CI)':<46}decision"
    ]
    for r in frame.to_dict("records"):
        if r["status"] != "tested":
            lines.append(f"{r['hypothesis_id']:<36}{r['extract']:<14}{r['status']}")
            continue
        ci = (
            f"[{r['effect_size_ci_low']:.3f}, {r['effect_size_ci_high']:.3f}]"
            if not pd.isna(r["effect_size_ci_low"])
            else ""
        )
        effect = f"{EFFECT_LABELS.get(r['effect_size_name'], r['effect_size_name'])} {r['effect_size']:.3f} {ci}"
        decision = "reject H0" if r["reject_null"] else "keep H0"
        lines.append(
            f"{r['hypothesis_id']:<36}{r['extract']:<14}{r['test']:<18}{r['n_a']:>8}{r['n_b']:>8}"
            f"{_p(r['p_value_adjusted']):>10}  {effect:<46}{decision}"
        )
    return "\n".join(lines)
