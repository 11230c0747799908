"""phik's binning (the defect: default equal-width bins held 99.8 % of balances in one bin) and the Pearson and
Spearman figures against scipy on the raw values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from metanprom.statistics.correlations import NO_BALANCE, PHIK_INTERVAL, feature_correlations, phik_bins
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


def test_pearson_and_spearman_are_scipys_on_the_raw_values(shipped_warehouse) -> None:
    frame = _customers(shipped_warehouse, "bank_dataset")
    result = feature_correlations(frame, "bank_dataset").set_index(["feature_a", "feature_b"])
    a, b = frame["age"].astype(float), frame["is_churned"].astype(float)
    row = (
        result.loc[("age", "is_churned")]
        if ("age", "is_churned") in result.index
        else result.loc[("is_churned", "age")]
    )
    assert row["pearson"] == pytest.approx(stats.pearsonr(a, b)[0], rel=1e-9)
    assert row["spearman"] == pytest.approx(stats.spearmanr(a, b)[0], rel=1e-9)
    assert 0 < row["phik"] <= 1
