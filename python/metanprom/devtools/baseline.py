"""The analysts' notebook, as idiomatic pandas: the baseline the benchmark compares the pipeline with.

Reads a current-format extract with pandas and does what the notebooks did:
the churn portrait, churn by feature, the products_age segments and the
built-in hypothesis tests with scipy. Prints the seconds it took as JSON.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy import stats


def run(path: str) -> dict[str, float]:
    started = time.perf_counter()
    df = pd.read_csv(path)
    df = df.rename(columns=str.lower)
    df = df[df["products"] > 0].dropna(subset=["age"])
    numeric = ["score", "age", "equity", "balance", "products", "est_salary"]
    categorical = ["city", "gender", "products", "equity", "credit_card", "last_activity"]

    # churn portrait: churned vs retained
    portrait = df.groupby("churn")[numeric].agg(["mean", "median"]).T
    shares = {c: df.groupby("churn")[c].value_counts(normalize=True).unstack(0) for c in categorical}

    # churn by feature, numeric ones banded
    df["age_band"] = pd.cut(df["age"], [0, 25, 35, 45, 55, 65, 200], right=False)
    df["score_band"] = pd.cut(df["score"], [0, 650, 700, 750, 800, 850, 900, 950, 2000], right=False)
    df["balance_band"] = pd.cut(df["balance"], [0, 5e4, 1e5, 2e5, 3e5, 5e5, 1e6, 2e6, np.inf], right=False)
    df["salary_band"] = pd.cut(df["est_salary"], [0, 2.5e4, 5e4, 7.5e4, 1e5, 1.5e5, 2e5, 3e5, np.inf], right=False)
    by_feature = {
        c: df.groupby(c, observed=True)["churn"].agg(["count", "sum", "mean"])
        for c in [*categorical, "age_band", "score_band", "balance_band", "salary_band"]
    }

    # products_age segments
    df["segment"] = np.select(
        [df["products"] >= 3, df["age"] <= 42], ["3+ products", "1-2 products, <= 42"], "1-2 products, 43+"
    )
    segments = df.groupby("segment")["churn"].agg(["count", "mean"])

    # the built-in hypotheses
    two, one = df[df["products"] == 2], df[df["products"] == 1]
    churned, retained = df[df["churn"] == 1], df[df["churn"] == 0]
    tests = [
        stats.mannwhitneyu(two["est_salary"], one["est_salary"]),
        stats.mannwhitneyu(two["balance"].dropna(), one["balance"].dropna()),
        stats.mannwhitneyu(churned["balance"].dropna(), retained["balance"].dropna()),
        stats.mannwhitneyu(two["age"], one["age"]),
        stats.mannwhitneyu(churned["score"], retained["score"]),
        stats.mannwhitneyu(churned["est_salary"], retained["est_salary"]),
        stats.mannwhitneyu(churned["age"], retained["age"]),
        stats.chi2_contingency(pd.crosstab(df["products"].isin([2]), df["churn"])),
        stats.chi2_contingency(pd.crosstab(df["last_activity"], df["churn"])),
        stats.chi2_contingency(pd.crosstab(df["gender"], df["churn"])),
        stats.chi2_contingency(pd.crosstab(df["credit_card"], df["churn"])),
    ]
    assert len(portrait) and len(shares) and len(by_feature) and len(segments) and len(tests)
    return {"seconds": time.perf_counter() - started, "rows": len(df)}
