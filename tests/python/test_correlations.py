"""phik's binning (the defect: default equal-width bins held 99.8 % of balances in one bin) and the Pearson and
Spearman figures against scipy on the raw values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from metanprom.statistics.correlations import (
    NO_BALANCE,
    PHIK_INTERVAL,
    feature_correlations,
    pearson_spearman,
    phik_bins,
    phik_pairs,
)
from metanprom.warehouse import connect


def _customers(warehouse, extract: str) -> pd.DataFrame:
    with connect(warehouse) as con:
        return con.execute(
            "select age, credit_score, property_score, balance, product_count, estimated_salary, has_credit_card, "
            "is_active, has_balance, is_churned, city_code, gender from customers where extract = ?",
            [extract],
        ).df()


@pytest.mark.parametrize("extract", ["bank_scrooge", "bank_dataset"])
def test_no_phik_bin_holds_most_customers(extract: str, shipped_warehouse) -> None:
    frame = _customers(shipped_warehouse, extract)
    frame["balance"] = frame["balance"].fillna(NO_BALANCE)
    bins = phik_bins(frame)
    for name in PHIK_INTERVAL:
        values = frame[name].to_numpy(dtype=float)
        counts, _ = np.histogram(values, bins=bins[name])  # numpy's own counting of the same edges
        assert counts.sum() == len(values), f"{name}: every customer inside the edges"
        shares = counts / counts.sum()
        if name == "balance" and (values == NO_BALANCE).any():
            assert shares[0] == pytest.approx(np.mean(values == NO_BALANCE)), "no balance: a bin of its own"
            shares = shares[1:] / shares[1:].sum()
        assert shares.max() < 0.2, (name, shares.round(3).tolist())
    if extract == "bank_scrooge":
        # phik's default, 10 equal-width bins, on the same balances: most customers in one bin (the defect)
        equal_width, _ = np.histogram(frame["balance"], bins=10)
        assert equal_width.max() / equal_width.sum() > 0.5


def _all_pairs_match_scipy(frame: pd.DataFrame) -> int:
    """Every pair of pearson_spearman (computed by DuckDB) against scipy's pearsonr and spearmanr on the raw
    values of the customers who have both (r and p to 1e-9); returns how many pairs were checked."""
    import duckdb

    encoded = frame[["age", "credit_score", "property_score", "balance", "product_count", "estimated_salary"]].astype(
        float
    )
    for flag in ("has_credit_card", "is_active", "has_balance", "is_churned"):
        encoded[flag] = frame[flag].astype(float)
    encoded["gender_female"] = (frame["gender"] == "F").astype(float)
    for code in sorted(frame["city_code"].unique()):
        encoded[f"city_{code.lower()}"] = (frame["city_code"] == code).astype(float)
    with duckdb.connect() as con:
        result = pearson_spearman(con.from_df(frame))
    assert len(result) > 60
    for row in result.to_dict("records"):
        pair = encoded[[row["feature_a"], row["feature_b"]]].dropna()
        x, y = pair.iloc[:, 0].to_numpy(), pair.iloc[:, 1].to_numpy()
        assert row["customers_used"] == len(pair)
        pearson, spearman = stats.pearsonr(x, y), stats.spearmanr(x, y)
        label = (row["feature_a"], row["feature_b"])
        assert row["pearson"] == pytest.approx(pearson.statistic, rel=1e-9, abs=1e-12), label
        assert row["pearson_p_value"] == pytest.approx(pearson.pvalue, rel=1e-9, abs=1e-300), label
        assert row["spearman"] == pytest.approx(spearman.statistic, rel=1e-9, abs=1e-12), label
        assert row["spearman_p_value"] == pytest.approx(spearman.pvalue, rel=1e-9, abs=1e-300), label
    return len(result)


@pytest.mark.parametrize("extract", ["bank_scrooge", "bank_dataset"])
def test_pearson_and_spearman_are_scipys_on_the_raw_values(extract: str, shipped_warehouse) -> None:
    _all_pairs_match_scipy(_customers(shipped_warehouse, extract))


def _synthetic_customers(rows: int = 4_000) -> pd.DataFrame:
    """Customers with the extracts' shapes (a heavy-tailed balance, a third without one), built here."""
    rng = np.random.default_rng(11)
    age = rng.integers(18, 90, rows)
    churned = rng.random(rows) < 0.1 + 0.004 * (age - 18)
    balance = np.where(rng.random(rows) < 0.33, np.nan, rng.lognormal(12, 1.5, rows))
    return pd.DataFrame(
        {
            "age": age,
            "credit_score": rng.integers(400, 1000, rows),
            "property_score": rng.integers(0, 10, rows),
            "balance": balance,
            "product_count": rng.integers(1, 5, rows),
            "estimated_salary": rng.lognormal(11, 0.6, rows),
            "has_credit_card": rng.random(rows) < 0.6,
            "is_active": rng.random(rows) < 0.5,
            "has_balance": ~np.isnan(balance),
            "is_churned": churned,
            "city_code": rng.choice(["YAR", "RYB", "ROS"], rows),
            "gender": rng.choice(["F", "M"], rows),
        }
    )


def test_phik_bins_hold_equal_counts_on_a_heavy_tail_without_a_build() -> None:
    frame = _synthetic_customers()
    frame["balance"] = frame["balance"].fillna(NO_BALANCE)
    bins = phik_bins(frame)
    balances = frame["balance"].to_numpy(dtype=float)
    counts, _ = np.histogram(balances, bins=bins["balance"])
    assert counts[0] == int((balances == NO_BALANCE).sum()), "no balance: a bin of its own"
    with_balance = counts[1:] / counts[1:].sum()
    assert with_balance.max() < 0.2, with_balance.round(3).tolist()
    equal_width, _ = np.histogram(balances, bins=10)
    assert equal_width.max() / equal_width.sum() > 0.5, "phik's default bins would lump most customers together"


def test_pearson_and_spearman_are_scipys_without_a_build() -> None:
    """Heavy ties (flags, small integers), a third without a balance: every pair against scipy."""
    _all_pairs_match_scipy(_synthetic_customers())


def _phik_frame(customers: pd.DataFrame) -> pd.DataFrame:
    frame = customers[["age", "credit_score", "property_score", "balance", "product_count", "estimated_salary"]].copy()
    for flag in ("has_credit_card", "is_active", "has_balance", "is_churned"):
        frame[flag] = customers[flag].astype(int)
    frame[["city_code", "gender"]] = customers[["city_code", "gender"]]
    frame["balance"] = frame["balance"].fillna(NO_BALANCE)
    return frame


def _assert_phiks_own_matrices(frame: pd.DataFrame) -> int:
    """phik_pairs against phik's own phik_matrix and significance_matrix on the same frame and bins (the library
    counting its contingency tables itself): every pair, to the bit. Returns how many pairs had figures."""
    import warnings

    from phik import phik_matrix, significance_matrix

    bins = phik_bins(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kwargs = {"interval_cols": list(PHIK_INTERVAL), "bins": bins, "verbose": False, "njobs": 1}
        matrix = phik_matrix(frame.copy(), **kwargs)
        significance = significance_matrix(frame.copy(), significance_method="asymptotic", **kwargs)
    pairs = phik_pairs(frame.copy(), bins)
    expected = [(a, b) for i, a in enumerate(matrix.columns) for b in matrix.columns[i + 1 :]]
    assert list(zip(pairs["phik_feature_a"], pairs["phik_feature_b"], strict=True)) == expected
    for row in pairs.to_dict("records"):
        a, b = row["phik_feature_a"], row["phik_feature_b"]
        np.testing.assert_equal(row["phik"], matrix.loc[a, b], err_msg=f"phik of {a}, {b}")
        np.testing.assert_equal(row["phik_significance_z"], significance.loc[a, b], err_msg=f"significance {a}, {b}")
    return int(pairs["phik"].notna().sum())


def test_phik_pairs_are_phiks_own_matrices_without_a_build() -> None:
    """Heavy ties, a third without a balance; missing genders, one city only among them (a pair's table then has
    a city without a row); then a column with a single value, which phik drops."""
    frame = _phik_frame(_synthetic_customers())
    assert _assert_phiks_own_matrices(frame) == 66
    frame.loc[:40, "gender"] = None
    frame.loc[:9, "city_code"] = "KOS"
    assert _assert_phiks_own_matrices(frame) == 66
    frame["has_credit_card"] = 1
    assert "has_credit_card" not in set(phik_pairs(frame.copy(), phik_bins(frame))["phik_feature_a"])
    assert _assert_phiks_own_matrices(frame) == 55


@pytest.mark.parametrize("extract", ["bank_scrooge", "bank_dataset"])
def test_phik_pairs_are_phiks_own_matrices_on_the_shipped_sample(extract: str, shipped_warehouse) -> None:
    assert _assert_phiks_own_matrices(_phik_frame(_customers(shipped_warehouse, extract))) > 50


def test_phik_and_the_engines_figures_come_together_per_pair() -> None:
    import duckdb

    frame = _synthetic_customers()
    with duckdb.connect() as con:
        result = feature_correlations(con.from_df(frame), "bank_scrooge").set_index(["feature_a", "feature_b"])
    row = result.loc[("age", "is_churned")]
    assert row["pearson"] == pytest.approx(stats.pearsonr(frame["age"], frame["is_churned"].astype(float))[0])
    assert 0 < row["phik"] <= 1
    assert row["customers_in_extract"] == len(frame)
