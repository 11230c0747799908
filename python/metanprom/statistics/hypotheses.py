"""Run the hypothesis registry on the built `customers` mart.

For each hypothesis and extract: the engine computes the two groups'
sufficient statistics where the customers are (sizes, moments, quantiles,
rank sums, counts, fixed samples: `sufficient`); the test is chosen by the
data (or named); scipy and statsmodels turn those numbers into the statistic,
the p-value and the effect size with its 95 % interval (`two_groups`). Then
the p-value adjusted within the hypothesis' family, an outlier-sensitivity
rerun, and one sentence of conclusion in English and in Russian
(`conclusions`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from metanprom.sqltext import sql_string
from metanprom.statistics.conclusions import conclusions
from metanprom.statistics.multiple_testing import adjusted_p_values
from metanprom.statistics.registry import (
    UNASSIGNED,
    Group,
    Hypothesis,
    Registry,
    RegistryError,
    load_registry,
    segment_membership,
)
from metanprom.statistics.sufficient import TwoGroups
from metanprom.statistics.two_groups import (
    CI_SAMPLE,
    CONTINUOUS_TESTS,
    NORMALITY_SAMPLE,
    UnsuitableTestError,
    checks_from,
    chi_square,
    choose_test,
    cliffs_delta,
    mann_whitney,
    run_test,
    two_proportions,
    welch,
)


def two_groups(customers: duckdb.DuckDBPyRelation, h: Hypothesis, extract: str) -> TwoGroups:
    """Group a and group b of `h` in one extract, as a relation the engine computes their statistics on."""
    ((_, groups),) = next(iter(shared_two_groups(customers, [(h, extract)])))
    return groups


def shared_two_groups(
    customers: duckdb.DuckDBPyRelation,
    wanted: list[tuple[Hypothesis, str]],
    rules: duckdb.DuckDBPyRelation | None = None,
) -> Iterator[list[tuple[int, TwoGroups]]]:
    """The groups of each (hypothesis, extract) in `wanted`, a batch at a time: the hypotheses on one measure of
    one extract share one read of the customers and one sort of the values (`TwoGroups.from_customers`). Each
    batch lists (position in `wanted`, groups); its counts are computed when first read, and let go with it.
    Customers in both groups of a hypothesis are an error of the registry. `rules`: the segments' rules
    (`_group_sql`)."""
    batches: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
    for position, (h, extract) in enumerate(wanted):
        where_a, where_b = (_group_sql(customers, h, group, rules) for group in (h.a, h.b))
        batches.setdefault((extract, _measure_sql(h)), []).append((position, where_a, where_b))
    for (extract, measure), members in batches.items():
        groups = TwoGroups.from_customers(customers, extract, measure, [(a, b) for _, a, b in members])
        for (position, _, _), pair in zip(members, groups, strict=True):
            overlap = int(pair.summary()["overlap"])  # reads the counts: the whole batch's, at once
            if overlap:
                h = wanted[position][0]
                raise RegistryError(f"hypothesis {h.id!r}: {overlap} customers of {extract} are in both groups")
        yield [(position, pair) for (position, _, _), pair in zip(members, groups, strict=True)]


def _measure_sql(h: Hypothesis) -> str:
    """The measure's SQL: the column, or whether it holds `measure_value` (0/1)."""
    if h.measure_value is not None:
        return f"({h.measure} = {sql_string(h.measure_value)})::int"
    return h.measure


def _group_sql(
    customers: duckdb.DuckDBPyRelation, h: Hypothesis, group: Group, rules: duckdb.DuckDBPyRelation | None = None
) -> str:
    """A group's SQL over `customers`: its `where`, or a segment's membership compiled from the segments' rules,
    with no join on a membership table. `rules`: a relation with scheme, segment_id, precedence, rule_sql and
    scheme_is_exclusive (the build passes `int_segment_rules`, compiled from the definitions alone, so the
    hypotheses need not wait for the segments' counts and tests); by default the rules `segment_summary` holds,
    read on the customers' connection (a built warehouse)."""
    if group.segment is None:
        return group.where
    scheme, segment = group.segment
    query = (
        "select distinct segment_id, precedence, rule_sql, scheme_is_exclusive from {}"
        f" where scheme = {sql_string(scheme)} and segment_id <> {sql_string(UNASSIGNED)}"
    )
    if rules is None:
        source, rows = "segment_summary", customers.query("customers", query.format("segment_summary")).fetchall()
    else:
        source, rows = "the segments' rules", rules.query("rules", query.format("rules")).fetchall()
    if not rows:
        raise RegistryError(f"hypothesis {h.id!r}: {source} has no scheme {scheme!r}")
    try:
        member = segment_membership([r[:3] for r in rows], bool(rows[0][3]), segment)
    except RegistryError as error:
        raise RegistryError(f"hypothesis {h.id!r}, scheme {scheme!r}: {error}") from error
    return f"not {member}" if group.rest else member


def load_groups(customers: duckdb.DuckDBPyRelation, h: Hypothesis, extract: str) -> tuple[np.ndarray, np.ndarray]:
    """Every value of group a and of group b in one extract (for checks against other routes)."""
    groups = two_groups(customers, h, extract)
    return groups.sample(True), groups.sample(False)


def evaluate_hypothesis(h: Hypothesis, groups: TwoGroups, extract: str) -> dict[str, Any]:
    """Every figure of one hypothesis on one extract (before multiple-testing adjustment).

    The engine returns each test's sufficient statistics (sizes, moments, quantiles, rank sums, counts) and
    fixed samples; scipy and statsmodels turn them into p-values and intervals. Only groups smaller than 20,
    where Mann-Whitney's exact distribution applies, are read whole."""
    size = groups.summary()
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
        "n_a": size["n_a"],
        "n_b": size["n_b"],
        "alpha": h.alpha,
        "alternative": h.alternative,
        "evidence": "exploratory" if extract in h.exploratory_on else "confirmatory",
    }
    if min(size["n_a"], size["n_b"]) < 2:
        row.update(status=f"skipped: a group has fewer than 2 customers in {extract}", test=None, measure_kind=None)
        return row
    kind = "categorical" if groups.is_categorical else "binary" if size["is_binary"] else "continuous"
    row["measure_kind"] = kind
    moments, quantiles, ordered, bounds = {}, {}, {}, {}
    if kind == "continuous":
        moments, quantiles = groups.moments(), groups.quantiles()
        # the outlier-sensitivity rerun's bounds: each group's own 1 % and 99 % quantiles
        bounds = {g: (quantiles[g][0], quantiles[g][2]) for g in (True, False)}
        # one fixed sample per group: its first NORMALITY_SAMPLE for the normality check, all of it for the
        # interval of Cliff's delta (the whole group where it is no larger than CI_SAMPLE)
        ordered = {g: groups.sample(g, CI_SAMPLE) for g in (True, False)}
        row.update(checks_from(moments[True], moments[False], *(ordered[g][:NORMALITY_SAMPLE] for g in (True, False))))
        row.update(mean_a=moments[True].mean, mean_b=moments[False].mean)
        row.update(median_a=quantiles[True][1], median_b=quantiles[False][1])
    elif kind == "binary":
        row.update(proportion_a=size["ones_a"] / size["n_a"], proportion_b=size["ones_b"] / size["n_b"])
    test, reason = choose_test(kind, h.test, row if kind == "continuous" else {})
    row.update(test=test, test_reason=reason, status="tested")
    if test == "mann_whitney":
        # the whole groups' rank sums and the trimmed rerun's (below) from one ordering of the values
        if bounds:
            groups.rank_sums_with(bounds)
        row.update(_mann_whitney(groups, None, h.alternative, ordered))
    elif test == "welch_t":
        row.update(welch(moments[True], moments[False], h.alternative))
    elif test == "two_proportion_z":
        row.update(two_proportions(size["ones_a"], size["n_a"], size["ones_b"], size["n_b"], h.alternative))
    else:
        if h.alternative != "two-sided":
            raise UnsuitableTestError("a chi-square test has no one-sided alternative")
        row.update(chi_square(groups.crosstab()[1]))
    if test in CONTINUOUS_TESTS:
        # the outlier-sensitivity rerun: each group without its values outside its own 1 % and 99 % quantiles
        if test == "mann_whitney":
            row["p_value_trimmed"] = _mann_whitney(groups, bounds, h.alternative, None)["p_value"]
        else:
            kept = groups.moments(bounds)
            row["p_value_trimmed"] = welch(kept[True], kept[False], h.alternative)["p_value"]
        row["decision_changes_when_trimmed"] = bool((row["p_value"] < h.alpha) != (row["p_value_trimmed"] < h.alpha))
    return row


def _mann_whitney(
    groups: TwoGroups,
    bounds: dict[bool, tuple[float, float]] | None,
    alternative: str,
    ordered: dict[bool, np.ndarray] | None,
) -> dict[str, Any]:
    """Mann-Whitney from the engine's rank sums (inside `bounds` if given); with `ordered` (each group's fixed
    sample) also Cliff's delta and its interval. Groups under 20 are read whole and go to scipy, whose exact
    distribution applies there."""
    ranks = groups.rank_sums(bounds)
    if min(ranks.n_a, ranks.n_b) < 20:
        a, b = groups.sample(True), groups.sample(False)
        if bounds:
            a, b = (x[(x >= bounds[g][0]) & (x <= bounds[g][1])] for x, g in ((a, True), (b, False)))
        return run_test("mann_whitney", a, b, with_effect=ordered is not None, alternative=alternative)
    u_a, p_value = mann_whitney(ranks, alternative)
    out: dict[str, Any] = {"statistic": u_a, "p_value": p_value, "effect_size_name": "cliffs_delta"}
    if ordered is not None:
        out.update(cliffs_delta(2 * u_a / (ranks.n_a * ranks.n_b) - 1, ordered[True], ordered[False]))
    return out


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
    rules: duckdb.DuckDBPyRelation | None = None,
) -> pd.DataFrame:
    """Run every hypothesis (or those in `ids`) on every extract it applies to; one row per pair. `rules`: the
    segments' rules (`_group_sql`; default: those `segment_summary` holds)."""
    registry = registry or load_registry()
    wanted = [registry.get(i).id for i in ids] if ids else None
    # Adjustment needs the whole family: run every hypothesis of the families asked for, show those asked for.
    families = {registry.get(i).family for i in ids} if ids else None
    chosen = [h for h in registry.hypotheses if families is None or h.family in families]
    present = {r[0] for r in customers.project("extract").distinct().fetchall()}
    by_id = {h.id: h for h in chosen}
    pairs = [
        (h, extract)
        for h in chosen
        for extract in h.extracts
        if extract in present and not (extracts and extract not in extracts)
    ]
    rows: list[dict[str, Any]] = [{} for _ in pairs]
    for batch in shared_two_groups(customers, pairs, rules):
        for position, groups in batch:
            h, extract = pairs[position]
            rows[position] = evaluate_hypothesis(h, groups, extract)
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
