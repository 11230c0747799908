"""Run the hypothesis registry on the built `customers` mart.

For each hypothesis and extract: load only the measure of the two groups
(DuckDB, read-only), choose the test by the data (or use the one named),
report the checks behind the choice, the effect size with its 95 % interval,
the p-value adjusted within the hypothesis' family, an outlier-sensitivity
rerun, and one sentence of conclusion in English and in Russian. The
registry, the tests and the sentences are modules of their own (registry,
two_groups, conclusions).
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd

from metanprom.sqltext import sql_string
from metanprom.statistics.conclusions import conclusions
from metanprom.statistics.multiple_testing import adjusted_p_values
from metanprom.statistics.registry import Hypothesis, Registry, RegistryError, load_registry
from metanprom.statistics.two_groups import CONTINUOUS_TESTS, checks, choose_test, measure_kind, run_test, trimmed


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
        ta, tb = trimmed(a), trimmed(b)
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
