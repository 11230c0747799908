"""The engine's sufficient statistics, turned into tests, against scipy on the raw values (1e-9)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from metanprom.statistics.frames import SAMPLE_ORDER_SQL
from metanprom.statistics.sufficient import RankSums, SharedCounts, TwoGroups
from metanprom.statistics.two_groups import chi_square, mann_whitney, welch


def _heavy_ties(seed: int, n_a: int, n_b: int) -> tuple[np.ndarray, np.ndarray]:
    """Money-like values with many exact zeros and values rounded to thousands: most values are tied."""
    rng = np.random.default_rng(seed)

    def draw(n: int, shift: float) -> np.ndarray:
        x = np.round(rng.lognormal(11 + shift, 1.2, n), -3)
        x[rng.random(n) < 0.3] = 0.0
        return x

    return draw(n_a, 0.0), draw(n_b, 0.15)


CASES = {
    "heavy ties": _heavy_ties(1, 3_000, 5_000),
    "heavy ties, unequal": _heavy_ties(2, 40, 9_000),
    "scores": tuple(np.random.default_rng(3).integers(600, 1000, size).astype(float) for size in (700, 650)),
    "continuous": (np.random.default_rng(4).normal(0, 1, 500), np.random.default_rng(5).normal(0.1, 2, 800)),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("alternative", ["two-sided", "greater"])
def test_mann_whitney_from_rank_sums_is_scipys(case: str, alternative: str) -> None:
    a, b = CASES[case]
    u, p = mann_whitney(TwoGroups.from_arrays(a, b).rank_sums(), alternative)
    reference = stats.mannwhitneyu(a, b, alternative=alternative, method="asymptotic")
    assert u == pytest.approx(reference.statistic, rel=1e-12)
    assert p == pytest.approx(reference.pvalue, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("case", sorted(CASES))
def test_trimmed_rank_sums_are_scipys_on_the_trimmed_values(case: str) -> None:
    a, b = CASES[case]
    groups = TwoGroups.from_arrays(a, b)
    quantiles = groups.quantiles()
    for values, group in ((a, True), (b, False)):
        assert quantiles[group] == pytest.approx(tuple(np.quantile(values, [0.01, 0.5, 0.99])), rel=1e-12)
    bounds = {g: (quantiles[g][0], quantiles[g][2]) for g in (True, False)}
    ta = a[(a >= np.quantile(a, 0.01)) & (a <= np.quantile(a, 0.99))]
    tb = b[(b >= np.quantile(b, 0.01)) & (b <= np.quantile(b, 0.99))]
    ranks = groups.rank_sums(bounds)
    assert (ranks.n_a, ranks.n_b) == (len(ta), len(tb))
    reference = stats.mannwhitneyu(ta, tb, method="asymptotic")
    assert mann_whitney(ranks)[1] == pytest.approx(reference.pvalue, rel=1e-9, abs=1e-300)
    # both from one ordering of the values (what a hypothesis asks for), each against scipy
    whole, trimmed = TwoGroups.from_arrays(a, b).rank_sums_with(bounds)
    for got, (x, y) in ((whole, (a, b)), (trimmed, (ta, tb))):
        expected = stats.mannwhitneyu(x, y, method="asymptotic")
        assert (got.n_a, got.n_b) == (len(x), len(y))
        assert mann_whitney(got)[0] == pytest.approx(expected.statistic, rel=1e-12)
        assert mann_whitney(got)[1] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("case", sorted(CASES))
def test_moments_are_scipys(case: str) -> None:
    a, b = CASES[case]
    moments = TwoGroups.from_arrays(a, b).moments()
    for values, group in ((a, True), (b, False)):
        m = moments[group]
        assert m.n == len(values)
        assert m.mean == pytest.approx(values.mean(), rel=1e-12)
        assert m.variance == pytest.approx(np.var(values, ddof=1), rel=1e-9)
        assert m.skewness == pytest.approx(stats.skew(values), rel=1e-9)
        assert m.excess_kurtosis == pytest.approx(stats.kurtosis(values), rel=1e-9)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("alternative", ["two-sided", "greater"])
def test_welch_from_moments_is_scipys(case: str, alternative: str) -> None:
    a, b = CASES[case]
    moments = TwoGroups.from_arrays(a, b).moments()
    result = welch(moments[True], moments[False], alternative)
    reference = stats.ttest_ind(a, b, equal_var=False, alternative=alternative)
    assert result["statistic"] == pytest.approx(reference.statistic, rel=1e-9)
    assert result["p_value"] == pytest.approx(reference.pvalue, rel=1e-9, abs=1e-300)
    interval = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (result["effect_size_ci_low"], result["effect_size_ci_high"]) == pytest.approx(
        (interval.low, interval.high), rel=1e-9
    )


def test_the_crosstab_gives_scipys_chi_square() -> None:
    rng = np.random.default_rng(6)
    a = rng.choice(np.array(["Ярославль", "Рыбинск", "Ростов"], dtype=object), 900, p=[0.5, 0.3, 0.2])
    b = rng.choice(np.array(["Ярославль", "Рыбинск", "Ростов"], dtype=object), 700, p=[0.6, 0.3, 0.1])
    groups = TwoGroups.from_arrays(a, b)
    assert groups.is_categorical
    categories, table = groups.crosstab()
    assert categories == sorted({"Ярославль", "Рыбинск", "Ростов"})
    frame = pd.crosstab(np.r_[np.zeros(len(a)), np.ones(len(b))], np.r_[a, b])
    reference = stats.chi2_contingency(frame.to_numpy(), correction=False)
    result = chi_square(table)
    assert (result["statistic"], result["p_value"]) == pytest.approx((reference.statistic, reference.pvalue), rel=1e-9)


def test_a_yes_no_measure_is_counted_as_zero_and_one() -> None:
    a = np.array([True] * 30 + [False] * 70)
    b = np.array([True] * 10 + [False] * 90)
    summary = TwoGroups.from_arrays(a, b).summary()
    assert summary == {
        "n_a": 100, "n_b": 100, "overlap": 0, "is_binary": True, "ones_a": 30, "ones_b": 10,
        "mean_a": pytest.approx(0.3, rel=1e-15), "mean_b": pytest.approx(0.1, rel=1e-15),
    }  # fmt: skip


def test_the_sample_is_the_customers_first_by_the_md5_of_their_key() -> None:
    """Chosen by a hash of the key (worked here with hashlib), not by a random generator: the same on every run
    and every engine."""
    import hashlib

    from metanprom import project

    a = np.arange(50, dtype=float)
    groups = TwoGroups.from_arrays(a, np.arange(5, dtype=float))
    seed = project.random_seed()
    expected = sorted(range(50), key=lambda i: hashlib.md5(f"a{i}|{seed}".encode()).hexdigest())[:7]
    assert groups.sample(True, 7).tolist() == [float(i) for i in expected]
    assert sorted(groups.sample(True).tolist()) == a.tolist()
    assert "md5" in SAMPLE_ORDER_SQL


def test_a_large_groups_sample_is_its_first_customers_by_the_md5_of_their_key(monkeypatch) -> None:
    """Read below a cut-off of the sample order sized from the group, or, should it hold too few, from the whole
    group ordered: the customers first by the md5 of their key (worked here with hashlib) either way."""
    import hashlib

    from metanprom import project, sqltext

    seed = project.random_seed()
    a = np.arange(20_000, dtype=float)
    expected = sorted(range(20_000), key=lambda i: hashlib.md5(f"a{i}|{seed}".encode()).hexdigest())[:100]
    assert TwoGroups.from_arrays(a, np.arange(5, dtype=float)).sample(True, 100).tolist() == expected
    # a range 2^10 times too small puts the cut-off below nearly every customer: the whole group is ordered
    monkeypatch.setattr(sqltext, "MD5_ORDER_RANGE", 2**50)
    assert TwoGroups.from_arrays(a, np.arange(5, dtype=float)).sample(True, 100).tolist() == expected


def _customers(con, **columns: np.ndarray):
    """An in-memory `customers` relation of one extract: `columns` with keys and their sample order."""
    n = len(next(iter(columns.values())))
    frame = pd.DataFrame({"extract": "bank_scrooge", "customer_key": [f"c{i}" for i in range(n)], **columns})
    return con.from_df(frame).project(f"*, {SAMPLE_ORDER_SQL} as sample_order")


@pytest.mark.parametrize("route", ["duckdb sorted rows", "duckdb aggregate", "sql window"])
def test_pairs_on_one_measure_share_one_count_and_keep_their_own_figures(route: str, monkeypatch) -> None:
    """Two pairs of groups on one measure: pair 0 holds only the values 0 and 1, pair 1 ties and values between
    them, so the shared counts hold values each pair lacks. Each pair's figures are scipy's and numpy's on its
    own raw values, and the customers in both groups of a pair are counted. On every route of the kept counts:
    DuckDB's (running counts summed on the value counts, from the rows sorted by value, as for this measure of
    floating-point numbers, or from its ordered aggregate, as for any other) and the SQL window another engine
    (Spark) runs."""
    import duckdb

    sorted_runs: list[bool] = []
    original_runs = SharedCounts._counted_runs
    monkeypatch.setattr(SharedCounts, "_counted_runs", lambda self: sorted_runs.append(True) or original_runs(self))
    if route == "duckdb aggregate":
        monkeypatch.setattr(SharedCounts, "_sorts_rows", lambda self: False)
    if route == "sql window":
        original = SharedCounts.__init__

        def without_duckdb(self, rows, pairs) -> None:
            original(self, rows, pairs)
            self._duckdb = None

        monkeypatch.setattr(SharedCounts, "__init__", without_duckdb)

    rng = np.random.default_rng(12)
    n = 4_000
    group = rng.integers(0, 4, n)
    y = np.where(group < 2, rng.integers(0, 2, n), np.round(rng.normal(0.5, 1.0, n), 1))
    con = duckdb.connect()
    customers = _customers(con, grp=group, y=y)
    pairs = [("grp = 0", "grp = 1"), ("grp = 2", "grp = 3 or y > 2.5")]
    binary, continuous = TwoGroups.from_customers(customers, "bank_scrooge", "y", pairs)
    assert (binary._shared._duckdb is not None) == route.startswith("duckdb")  # the route asked for is taken

    a, b = y[group == 0], y[group == 1]
    assert binary.summary() == {
        "n_a": len(a), "n_b": len(b), "overlap": 0, "is_binary": True,
        "ones_a": int(a.sum()), "ones_b": int(b.sum()),
        "mean_a": pytest.approx(a.mean(), rel=1e-12), "mean_b": pytest.approx(b.mean(), rel=1e-12),
    }  # fmt: skip

    in_a, in_b = group == 2, (group == 3) | (y > 2.5)
    a, b = y[in_a], y[in_b & ~in_a]
    summary = continuous.summary()
    assert (summary["n_a"], summary["n_b"], summary["is_binary"]) == (len(a), len(b), False)
    assert summary["overlap"] == int((in_a & in_b).sum()) > 0
    u, p = mann_whitney(continuous.rank_sums(), "two-sided")
    reference = stats.mannwhitneyu(a, b, method="asymptotic")
    assert (u, p) == pytest.approx((reference.statistic, reference.pvalue), rel=1e-9)
    quantiles = continuous.quantiles()
    for group_a, values in ((True, a), (False, b)):
        assert quantiles[group_a] == pytest.approx(tuple(np.quantile(values, [0.01, 0.5, 0.99])), rel=1e-12)
    moments = continuous.moments()
    assert moments[True].skewness == pytest.approx(stats.skew(a), rel=1e-9)
    assert moments[False].variance == pytest.approx(np.var(b, ddof=1), rel=1e-12)
    bounds = {True: (-0.5, 1.5), False: (0.0, 2.0)}
    trimmed = continuous.rank_sums(bounds)
    a_kept, b_kept = a[(a >= -0.5) & (a <= 1.5)], b[(b >= 0.0) & (b <= 2.0)]
    reference = stats.mannwhitneyu(a_kept, b_kept, method="asymptotic")
    assert mann_whitney(trimmed, "two-sided") == pytest.approx((reference.statistic, reference.pvalue), rel=1e-9)
    assert bool(sorted_runs) == (route == "duckdb sorted rows")


def test_a_pairs_crosstab_has_only_its_own_categories() -> None:
    """Categories only another pair's groups have are no columns of this pair's chi-square table."""
    import duckdb

    rng = np.random.default_rng(13)
    group = rng.integers(0, 4, 3_000)
    city = np.where(group < 2, rng.choice(["Рыбинск", "Ярославль"], 3_000), rng.choice(["Ростов", "Рыбинск"], 3_000))
    customers = _customers(duckdb.connect(), grp=group, city=city)
    first, second = TwoGroups.from_customers(
        customers, "bank_scrooge", "city", [("grp = 0", "grp = 1"), ("grp = 2", "grp = 3")]
    )
    for groups, (code_a, code_b), categories in (
        (first, (0, 1), ["Рыбинск", "Ярославль"]),
        (second, (2, 3), ["Ростов", "Рыбинск"]),
    ):
        names, table = groups.crosstab()
        assert names == categories
        frame = pd.crosstab(group[np.isin(group, [code_a, code_b])], city[np.isin(group, [code_a, code_b])])
        assert table.tolist() == frame.loc[[code_a, code_b], categories].to_numpy().tolist()
        reference = stats.chi2_contingency(frame.to_numpy(), correction=False)
        result = chi_square(table)
        assert (result["statistic"], result["p_value"]) == pytest.approx(
            (reference.statistic, reference.pvalue), rel=1e-9
        )


def test_running_counts_carry_across_the_batches_duckdb_hands_over() -> None:
    """1.5 million distinct values: DuckDB hands the ordered counts over in batches of about a million rows
    (Arrow chunks), and each group's running count must carry on from one batch to the next. The rank sum and
    the quantiles, which read the running counts, are scipy's and numpy's."""
    rng = np.random.default_rng(21)
    a, b = rng.normal(0, 1, 700_000), rng.normal(0.01, 1, 800_000)
    groups = TwoGroups.from_arrays(a, b)
    assert mann_whitney(groups.rank_sums(), "two-sided") == pytest.approx(
        tuple(stats.mannwhitneyu(a, b, method="asymptotic")), rel=1e-9
    )
    for group, values in ((True, a), (False, b)):
        assert groups.quantiles()[group] == pytest.approx(tuple(np.quantile(values, [0.01, 0.5, 0.99])), rel=1e-12)


def test_groups_without_a_value_count_nothing() -> None:
    """No customer with a value in either group (an extract without the measure): sizes, overlap and rank sums
    are 0, the means missing, and no quantile is read."""
    groups = TwoGroups.from_arrays(np.array([], dtype=float), np.array([], dtype=float))
    summary = groups.summary()
    assert (summary["n_a"], summary["n_b"], summary["overlap"]) == (0, 0, 0)
    assert np.isnan(summary["mean_a"]) and np.isnan(summary["mean_b"])
    assert groups.rank_sums() == RankSums(0, 0, 0.0, 0.0)
    assert groups.quantiles() == {}
