"""Hypothesis registry: validation, test choice, reference p-values, error rates, sentences."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint, proportions_ztest
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW
from statsmodels.stats.weightstats import ttest_ind as sm_ttest_ind

from metanprom.devtools.generator import generate
from metanprom.statistics.conclusions import conclusions
from metanprom.statistics.hypotheses import evaluate_hypothesis, load_groups, run_registry
from metanprom.statistics.registry import RegistryError, load_registry, segment_membership
from metanprom.statistics.sufficient import TwoGroups
from metanprom.statistics.two_groups import (
    UnsuitableTestError,
    choose_test,
    run_test,
)
from metanprom.warehouse import connect


def _reference_p(test: str, a: np.ndarray, b: np.ndarray, alternative: str = "two-sided") -> float:
    """The same p-value by another route (not the function the project calls)."""
    if alternative == "greater":
        assert test == "two_proportion_z", "the registry's one-sided hypotheses are on 0/1 measures"
        two_sided = _reference_p(test, a, b)
        return two_sided / 2 if a.mean() > b.mean() else 1 - two_sided / 2
    if test == "mann_whitney":
        # normal approximation of U with tie correction and continuity, from ranks
        ranks = stats.rankdata(np.concatenate([a, b]))
        n1, n2 = len(a), len(b)
        u = ranks[:n1].sum() - n1 * (n1 + 1) / 2
        mu = n1 * n2 / 2
        sigma = np.sqrt(n1 * n2 / 12 * ((n1 + n2 + 1) - _tie_term(ranks, n1 + n2)))
        z = (abs(u - mu) - 0.5) / sigma
        return float(2 * stats.norm.sf(z))
    if test == "welch_t":
        return float(sm_ttest_ind(a, b, usevar="unequal")[1])
    if test == "two_proportion_z":
        table = np.array([[a.sum(), len(a) - a.sum()], [b.sum(), len(b) - b.sum()]])
        return float(stats.chi2_contingency(table, correction=False).pvalue)
    raise AssertionError(test)


def _scipy_statistic(test: str, a: np.ndarray, b: np.ndarray) -> float:
    """The test's statistic by scipy (or statsmodels) on the raw values."""
    if test == "mann_whitney":
        return float(stats.mannwhitneyu(a, b).statistic)
    if test == "welch_t":
        return float(stats.ttest_ind(a, b, equal_var=False).statistic)
    if test == "two_proportion_z":
        return float(proportions_ztest([a.sum(), b.sum()], [len(a), len(b)])[0])
    raise AssertionError(test)


def _tie_term(ranks: np.ndarray, n: int) -> float:
    _, counts = np.unique(ranks, return_counts=True)
    return float((counts**3 - counts).sum() / (n * (n - 1)))


def test_registry_declares_the_built_in_hypotheses() -> None:
    registry = load_registry()
    ids = {h.id for h in registry.hypotheses}
    assert {
        "salary_2_vs_1_products",
        "balance_2_vs_1_products",
        "balance_churned_vs_retained",
        "age_2_vs_1_products",
        "rostov_share_2_vs_1_products",
        "churn_2_vs_1_products",
        "credit_score_churned_vs_retained",
        "salary_churned_vs_retained",
        "age_churned_vs_retained",
        "churn_active_vs_inactive",
        "churn_men_vs_women",
        "churn_credit_card_vs_none",
    } <= ids


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hypotheses: 3", "a list under 'hypotheses'"),
        ("hypotheses:\n  - {question_en: q}", "hypothesis number 1 has no id"),
        (
            "hypotheses:\n  - {id: x, question_en: q, question_ru: q, measure: age, family: f, test: t_test,"
            " groups: {a: {where: 'true', label_en: a, label_ru: a}, b: {where: 'true', label_en: b, label_ru: b}}}",
            "test 't_test' is not one of",
        ),
        (
            "hypotheses:\n  - {id: x, question_en: q, question_ru: q, measure: age, family: f,"
            " groups: {a: {where: 'true', label_en: a}, b: {where: 'true', label_en: b, label_ru: b}}}",
            "hypothesis 'x', group a: missing label_ru",
        ),
    ],
)
def test_a_bad_registry_names_file_entry_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "registry.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError, match=message) as error:
        load_registry(path)
    assert str(path) in str(error.value)


def test_a_t_test_on_a_0_1_measure_is_refused() -> None:
    with pytest.raises(UnsuitableTestError, match="0/1"):
        choose_test("binary", "welch_t", {})
    with pytest.raises(UnsuitableTestError):
        choose_test("binary", "mann_whitney", {})


def test_auto_chooses_by_the_shape_of_the_data() -> None:
    rng = np.random.default_rng(1)
    normal_a, normal_b = rng.normal(0, 1, 500), rng.normal(0, 1, 500)
    heavy_a, heavy_b = rng.lognormal(0, 1.5, 500), rng.lognormal(0, 1.5, 500)
    from metanprom.statistics.two_groups import checks

    assert choose_test("continuous", "auto", checks(normal_a, normal_b))[0] == "welch_t"
    assert choose_test("continuous", "auto", checks(heavy_a, heavy_b))[0] == "mann_whitney"
    assert choose_test("binary", "auto", {})[0] == "two_proportion_z"


@pytest.fixture(scope="module")
def sample_relation(tmp_path_factory: pytest.TempPathFactory):
    """customers-like relation from a generated extract (no warehouse needed)."""
    path = tmp_path_factory.mktemp("gen") / "scrooge.csv"
    generate("bank_scrooge", 10_000, path, seed=11)
    con = duckdb.connect()
    con.execute(
        f"""
        create table customers as
        select 'bank_scrooge' as extract, cast(USERID as varchar) || '-' || city as customer_key,
            age, score as credit_score, estimated_salary, products as product_count,
            churn = 1 as is_churned, gender
        from (select *, "EST_SALARY" as estimated_salary from read_csv('{path}'))
        where age is not null and products > 0
        """
    )
    return con


def test_error_rate_under_the_null_is_close_to_alpha(sample_relation) -> None:
    """Random halves of the same customers, the test chosen by `auto` each time as the registry would:
    rejections at alpha 0.05 about 5 % of the time, for every test auto picks (Welch included)."""
    con = sample_relation
    measures = {
        name: con.execute(f"select {name}::double as x from customers").fetchnumpy()["x"]
        for name in ("estimated_salary", "credit_score", "is_churned::int")
    }
    registry = load_registry()
    h = next(x for x in registry.hypotheses if x.measure == "estimated_salary")
    rng = np.random.default_rng(2026)
    runs = 400
    rejected: dict[str, int] = {}
    chosen: dict[str, int] = {}
    for _ in range(runs):
        for values in measures.values():
            mask = rng.random(len(values)) < 0.5
            row = evaluate_hypothesis(h, TwoGroups.from_arrays(values[mask], values[~mask]), "bank_scrooge")
            chosen[row["test"]] = chosen.get(row["test"], 0) + 1
            rejected[row["test"]] = rejected.get(row["test"], 0) + (row["p_value"] < 0.05)
    assert {"welch_t", "mann_whitney", "two_proportion_z"} <= set(chosen), chosen
    for test, count in rejected.items():
        assert 0.03 <= count / chosen[test] <= 0.07, (test, count / chosen[test])


def test_a_planted_difference_is_detected(sample_relation) -> None:
    con = sample_relation
    salary = con.execute("select estimated_salary from customers").fetchnumpy()["estimated_salary"]
    rng = np.random.default_rng(7)
    detected = 0
    for _ in range(50):
        mask = rng.random(len(salary)) < 0.5
        a = salary[mask] * 1.15  # 15 % more income in group a
        detected += run_test("mann_whitney", a, salary[~mask])["p_value"] < 0.05
    assert detected >= 48


def test_welchs_effect_is_the_mean_difference_with_welchs_interval() -> None:
    """Unequal variances and sizes: against statsmodels' Welch interval of the difference (another library)."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 3.0, 150), rng.normal(0.0, 1.0, 400)
    welch = run_test("welch_t", a, b)
    reference = CompareMeans(DescrStatsW(a), DescrStatsW(b)).tconfint_diff(usevar="unequal")
    assert welch["effect_size_name"] == "mean_difference"
    assert welch["effect_size"] == pytest.approx(a.mean() - b.mean(), rel=1e-12)
    assert (welch["effect_size_ci_low"], welch["effect_size_ci_high"]) == pytest.approx(reference, rel=1e-9)


def test_cliffs_delta_is_counted_pair_by_pair_and_its_interval_covers_the_bootstrap() -> None:
    rng = np.random.default_rng(4)
    a, b = np.round(rng.normal(1.0, 1, 300), 1), np.round(rng.normal(0.5, 1, 250), 1)  # ties included
    mw = run_test("mann_whitney", a, b)
    greater = (a[:, None] > b[None, :]).mean()
    smaller = (a[:, None] < b[None, :]).mean()
    assert mw["effect_size"] == pytest.approx(greater - smaller, rel=1e-12)
    boot = []
    for _ in range(2000):
        x, y = rng.choice(a, len(a)), rng.choice(b, len(b))
        boot.append((x[:, None] > y[None, :]).mean() - (x[:, None] < y[None, :]).mean())
    low, high = np.percentile(boot, [2.5, 97.5])
    assert mw["effect_size_ci_low"] == pytest.approx(low, abs=0.02)
    assert mw["effect_size_ci_high"] == pytest.approx(high, abs=0.02)


def test_the_difference_in_proportions_interval_is_newcombes_worked_from_wilson() -> None:
    """Newcombe's hybrid score interval, assembled by hand from two Wilson intervals."""
    a = np.array([1.0] * 45 + [0.0] * 155)
    b = np.array([1.0] * 30 + [0.0] * 220)
    result = run_test("two_proportion_z", a, b)
    p1, p2 = 45 / 200, 30 / 250
    l1, u1 = proportion_confint(45, 200, method="wilson")
    l2, u2 = proportion_confint(30, 250, method="wilson")
    d = p1 - p2
    assert result["effect_size"] == pytest.approx(d, rel=1e-12)
    assert result["effect_size_ci_low"] == pytest.approx(d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), rel=1e-9)
    assert result["effect_size_ci_high"] == pytest.approx(d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2), rel=1e-9)
    z, p = proportions_ztest([45, 30], [200, 250])
    assert (result["statistic"], result["p_value"]) == pytest.approx((z, p), rel=1e-12)


@pytest.mark.parametrize("which", ["shipped", "real"])
def test_every_hypothesis_matches_an_independent_p_value(which: str, request: pytest.FixtureRequest) -> None:
    """On the shipped sample (every run) and on the real extracts (where they are)."""
    warehouse = request.getfixturevalue(f"{which}_warehouse")
    with connect(warehouse) as con:
        customers = con.table("customers")
        frame = run_registry(customers)
        registry = load_registry()
        assert set(frame["status"]) == {"tested"}
        assert len(frame) == sum(len(h.extracts) for h in registry.hypotheses)
        for row in frame.to_dict("records"):
            a, b = load_groups(customers, registry.get(row["hypothesis_id"]), row["extract"])
            reference = _reference_p(row["test"], a, b, row["alternative"])
            assert row["p_value"] == pytest.approx(reference, rel=0, abs=1e-9), row["hypothesis_id"]
            assert row["statistic"] == pytest.approx(_scipy_statistic(row["test"], a, b), rel=1e-9), row[
                "hypothesis_id"
            ]
        assert frame["conclusion_en"].str.len().min() > 20
        assert frame["conclusion_ru"].str.contains("[а-я]", regex=True).all()


def test_one_hypothesis_is_adjusted_with_its_whole_family(real_warehouse: Path) -> None:
    with connect(real_warehouse) as con:
        everything = run_registry(con.table("customers"))
        one = run_registry(con.table("customers"), ids=["salary_2_vs_1_products"])
    assert set(one["hypothesis_id"]) == {"salary_2_vs_1_products"}
    merged = one.merge(everything, on=["hypothesis_id", "extract"], suffixes=("", "_all"))
    assert np.allclose(merged["p_value_adjusted"], merged["p_value_adjusted_all"])


def test_the_conclusions_direction_is_the_effects_not_the_medians() -> None:
    """Tied medians (3 in both groups) and a group a that is clearly higher: Cliff's delta, worked by hand
    below, is positive, so the sentence must say "higher" (it said "lower" when read from the medians)."""
    a = np.array([1.0] * 30 + [3.0] * 40 + [9.0] * 30)
    b = np.array([1.0] * 40 + [3.0] * 45 + [9.0] * 15)
    assert np.median(a) == np.median(b) == 3.0
    # Cliff's delta by hand: P(a > b) - P(a < b)
    greater = (30 * 0 + 40 * 40 + 30 * 85) / (100 * 100)
    smaller = (30 * 60 + 40 * 15 + 30 * 0) / (100 * 100)
    assert greater - smaller > 0
    registry = load_registry()
    h = next(x for x in registry.hypotheses if x.measure == "estimated_salary")
    row = evaluate_hypothesis(h, TwoGroups.from_arrays(a, b), "bank_scrooge")
    assert row["effect_size_name"] == "cliffs_delta"
    assert row["effect_size"] == pytest.approx(greater - smaller, rel=1e-12)
    row.update(p_value_adjusted=row["p_value"], reject_null=True)
    english, russian = conclusions(h, row)
    assert " is higher among " in english, english
    assert " выше, чем " in russian, russian
    row["effect_size"] = -row["effect_size"]
    assert " is lower among " in conclusions(h, row)[0]


def test_a_segment_hypothesis_tests_the_segments_own_customers(shipped_warehouse: Path) -> None:
    """Group a of every segment-vs-rest hypothesis is the segment as segment_summary counts it (all customers
    whose rule holds in an overlapping scheme, not only those it comes first for), group b everyone else."""
    registry = load_registry()
    with connect(shipped_warehouse) as con:
        customers = con.table("customers")
        checked = 0
        for h in registry.hypotheses:
            if h.a.segment is None:
                continue
            scheme, segment_id = h.a.segment
            for extract in h.extracts:
                a, b = load_groups(customers, h, extract)
                expected = con.execute(
                    "select customers from segment_summary where extract = ? and scheme = ? and segment_id = ?",
                    [extract, scheme, segment_id],
                ).fetchall()
                total = con.execute("select count(*) from customers where extract = ?", [extract]).fetchall()[0][0]
                assert [(len(a),)] == expected, (h.id, extract)
                assert len(a) + len(b) == total
                checked += 1
    assert checked >= 6


def test_segment_membership_is_the_first_rule_in_an_exclusive_scheme_and_every_rule_otherwise() -> None:
    """Customers worked by hand: x = 5 holds both rules, x = 1 only the second, x = 9 neither, x null neither
    (a null rule does not hold). Exclusive: 5 is in `big` only; overlapping: in both; unassigned: 9 and null."""
    rules = [("small", 2, "x < 6"), ("big", 1, "x > 4")]  # precedence: big first
    con = duckdb.connect()
    con.execute("create table customers as select * from (values (1), (5), (9), (null)) as t (x)")

    def members(exclusive: bool, segment: str, rest: bool = False) -> list[int | None]:
        sql = segment_membership(rules, exclusive, segment)
        where = f"not {sql}" if rest else sql
        return [r[0] for r in con.execute(f"select x from customers where {where} order by x nulls last").fetchall()]

    assert members(True, "big") == [5, 9]
    assert members(True, "small") == [1]
    assert members(False, "small") == [1, 5]
    assert members(True, "unassigned") == [None]
    assert members(False, "unassigned") == [None]
    assert members(True, "big", rest=True) == [1, None], "the rest is everyone else, nulls included"
    with pytest.raises(RegistryError, match="'huge' is not defined"):
        segment_membership(rules, True, "huge")
