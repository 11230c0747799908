"""The analysts' notebook, as an expert writes it in pandas (and in Polars): the benchmark's peers.

Reads a current-format extract and computes the figures the benchmark's
same-analysis stage builds with dbt, the same groups, tests and corrections:

- the churn portrait: mean and median of each numeric feature, churned vs retained (`churn_portrait`);
- churn by feature: customers, churners and churn rate per value or band (`churn_by_feature`);
- the segments of the shipped definitions: customers, churners, churn rate (`segment_summary`);
- the hypothesis registry's tests on this extract: each with the test the mart chooses on data of
  this shape (Mann-Whitney for salary and balance, Welch for age and credit score, the two-proportion
  z-test for rates and shares), its statistic, p-value, effect size, the p-value with each group
  trimmed to its own 1 %-99 % quantiles, and Holm's adjustment within each family
  (`hypothesis_results`).

Not recomputed here: the intervals the mart reports (Cliff's delta's on the md5-keyed sample,
Welch's, Newcombe's), relative risks, Wilson intervals and the normality pre-tests. A test
(test_baseline) checks every figure returned here, for both engines, against the marts built from
the same extract.

    python -c "from metanprom.devtools.baseline import run; print(run('x.csv'))"              # pandas
    python -c "from metanprom.devtools.baseline import run; print(run('x.csv', 'polars'))"    # Polars
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

NUMERIC = {"score": "credit_score", "age": "age", "equity": "property_score", "balance": "balance",
           "products": "product_count", "est_salary": "estimated_salary"}  # fmt: skip
#: Band edges (left-closed), as analysis_bands has them: band k holds [edges[k-1], edges[k]).
BANDS = {
    "age_band": ("age", [-np.inf, 25, 35, 45, 55, 65, np.inf]),
    "credit_score_band": ("score", [-np.inf, 650, 700, 750, 800, 850, 900, 950, np.inf]),
    "balance_band": ("balance", [-np.inf, 5e4, 1e5, 2e5, 3e5, 5e5, 1e6, 2e6, np.inf]),
    "estimated_salary_band": ("est_salary", [-np.inf, 2.5e4, 5e4, 7.5e4, 1e5, 1.5e5, 2e5, 3e5, np.inf]),
}
#: The extract's values as the marts write them (Russian city and gender codes; 0/1 flags).
VALUE_LABELS = {
    "city": {"Ярославль": "Yaroslavl", "Рыбинск": "Rybinsk", "Ростов": "Rostov Veliky"},
    "gender": {"М": "M", "Ж": "F"},
    **{flag: {0: "false", 1: "true"} for flag in ("last_activity", "credit_card", "has_balance")},
}
#: The extract's plausible product counts (dbt var plausible_ranges): rows outside are quarantined.
PRODUCTS = (1, 10)
#: Features counted as they are (column of the extract -> feature of churn_by_feature).
PLAIN = {"products": "product_count", "last_activity": "is_active", "city": "city", "gender": "gender",
         "equity": "property_score", "credit_card": "has_credit_card", "has_balance": "has_balance"}  # fmt: skip
#: The segments of seeds/segment_definitions.csv, as the notebook wrote them (scheme, segment) -> rule.
SEGMENTS: dict[tuple[str, str], Callable[[Mapping[str, np.ndarray]], np.ndarray]] = {
    ("products_age", "multi_product"): lambda c: c["products"] >= 3,
    ("products_age", "young_1_2_products"): lambda c: (c["products"] <= 2) & (c["age"] <= 42),
    ("products_age", "older_1_2_products"): lambda c: (c["products"] <= 2) & (c["age"] >= 43),
    ("consumption", "one_product"): lambda c: c["products"] == 1,
    ("consumption", "two_products"): lambda c: c["products"] == 2,
    ("consumption", "three_products"): lambda c: c["products"] == 3,
    ("consumption", "four_plus_products"): lambda c: c["products"] >= 4,
    ("churn_prone", "active_balance_score_850_899"): lambda c: (
        (c["last_activity"] == 1) & ~np.isnan(c["balance"]) & (c["score"] >= 850) & (c["score"] < 900)
    ),
    ("churn_prone", "men_balance_no_card"): lambda c: (
        (c["gender"] == "М") & (c["credit_card"] == 0) & ~np.isnan(c["balance"])
    ),
    ("churn_prone", "active_men_balance"): lambda c: (
        (c["gender"] == "М") & (c["last_activity"] == 1) & ~np.isnan(c["balance"])
    ),
    ("churn_prone", "active_property_5"): lambda c: (c["equity"] == 5) & (c["last_activity"] == 1),
}


# ----------------------------------------------------------------- the two dataframe engines


def _pandas(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    import pandas as pd

    df = pd.read_csv(path).rename(columns=str.lower)
    df = df[df["products"].between(*PRODUCTS) & df["age"].notna()].copy()
    df["has_balance"] = df["balance"].notna().astype(int)
    numeric = list(NUMERIC)
    grouped = df.groupby("churn")[numeric]
    portrait = {"mean": grouped.mean(), "median": grouped.median()}
    figures: dict[str, Any] = {
        "portrait": {
            (NUMERIC[c], statistic): (float(frame.loc[1, c]), float(frame.loc[0, c]))
            for statistic, frame in portrait.items()
            for c in numeric
        },
        "by_feature": {},
    }
    for column, feature in PLAIN.items():
        counts = df.groupby(column)["churn"].agg(["count", "sum"])
        labels = VALUE_LABELS.get(column, {})
        figures["by_feature"].update(
            {(feature, labels.get(value, str(value))): (int(n), int(s)) for value, (n, s) in counts.iterrows()}
        )
    for feature, (column, edges) in BANDS.items():
        band = pd.cut(df[column], edges, right=False, labels=False).fillna(-1).astype(int) + 1
        counts = df.groupby(band)["churn"].agg(["count", "sum"])
        figures["by_feature"].update({(feature, int(b)): (int(n), int(s)) for b, (n, s) in counts.iterrows()})
    columns = {c: df[c].to_numpy() for c in (*numeric, "churn", "city", "gender", "last_activity", "credit_card")}
    return figures, columns


def _polars(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    import polars as pl

    df = pl.read_csv(path).rename(str.lower)
    df = df.filter(pl.col("products").is_between(*PRODUCTS) & pl.col("age").is_not_null())
    df = df.with_columns(pl.col("balance").is_not_null().cast(pl.Int64).alias("has_balance"))
    numeric = list(NUMERIC)
    aggregated = df.group_by("churn").agg(
        [pl.col(c).mean().alias(f"{c}|mean") for c in numeric]
        + [pl.col(c).median().alias(f"{c}|median") for c in numeric]
    )
    rows = {r["churn"]: r for r in aggregated.to_dicts()}
    figures: dict[str, Any] = {
        "portrait": {
            (NUMERIC[c], statistic): (float(rows[1][f"{c}|{statistic}"]), float(rows[0][f"{c}|{statistic}"]))
            for statistic in ("mean", "median")
            for c in numeric
        },
        "by_feature": {},
    }
    for column, feature in PLAIN.items():
        counts = df.group_by(column).agg(pl.len().alias("n"), pl.col("churn").sum().alias("s"))
        labels = VALUE_LABELS.get(column, {})
        figures["by_feature"].update(
            {(feature, labels.get(r[column], str(r[column]))): (r["n"], r["s"]) for r in counts.to_dicts()}
        )
    for feature, (column, edges) in BANDS.items():
        inner = edges[1:-1]
        band = (
            pl.when(pl.col(column).is_null())
            .then(0)
            .otherwise(pl.sum_horizontal([(pl.col(column) >= edge).cast(pl.Int64) for edge in inner]) + 1)
        )
        counts = df.group_by(band.alias("band")).agg(pl.len().alias("n"), pl.col("churn").sum().alias("s"))
        figures["by_feature"].update({(feature, r["band"]): (r["n"], r["s"]) for r in counts.to_dicts()})
    columns = {c: df[c].to_numpy() for c in (*numeric, "churn", "city", "gender", "last_activity", "credit_card")}
    return figures, columns


ENGINES = {"pandas": _pandas, "polars": _polars}


# ----------------------------------------------------------------- the statistics, on the arrays


def _segments(c: Mapping[str, np.ndarray]) -> dict[tuple[str, str], tuple[int, int]]:
    out = {}
    for key, rule in SEGMENTS.items():
        member = np.asarray(rule(c), dtype=bool)
        out[key] = (int(member.sum()), int(c["churn"][member].sum()))
    return out


def _trimmed(x: np.ndarray) -> np.ndarray:
    low, high = np.quantile(x, [0.01, 0.99])
    return x[(x >= low) & (x <= high)]


def _continuous(test: str, a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    if test == "mann_whitney":
        result = stats.mannwhitneyu(a, b, method="asymptotic")
        trimmed = stats.mannwhitneyu(_trimmed(a), _trimmed(b), method="asymptotic")
        effect = 2 * result.statistic / (len(a) * len(b)) - 1
    else:
        result = stats.ttest_ind(a, b, equal_var=False)
        trimmed = stats.ttest_ind(_trimmed(a), _trimmed(b), equal_var=False)
        effect = a.mean() - b.mean()
    return {"statistic": float(result.statistic), "p_value": float(result.pvalue),
            "p_value_trimmed": float(trimmed.pvalue), "effect_size": float(effect)}  # fmt: skip


def _proportions(a: np.ndarray, b: np.ndarray, alternative: str = "two-sided") -> dict[str, float]:
    count, nobs = np.array([a.sum(), b.sum()]), np.array([len(a), len(b)])
    z, p = proportions_ztest(count, nobs, alternative="larger" if alternative == "greater" else "two-sided")
    return {"statistic": float(z), "p_value": float(p), "effect_size": float(a.mean() - b.mean())}


def _hypotheses(c: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    two, one = c["products"] == 2, c["products"] == 1
    churned = c["churn"] == 1
    has_balance = ~np.isnan(c["balance"])
    churn = c["churn"].astype(float)
    results = {
        "salary_2_vs_1_products": _continuous("mann_whitney", c["est_salary"][two], c["est_salary"][one]),
        "balance_2_vs_1_products": _continuous(
            "mann_whitney", c["balance"][two & has_balance], c["balance"][one & has_balance]
        ),
        "age_2_vs_1_products": _continuous("welch_t", c["age"][two], c["age"][one]),
        "rostov_share_2_vs_1_products": _proportions(
            (c["city"][two] == "Ростов").astype(float), (c["city"][one] == "Ростов").astype(float)
        ),
        "churn_2_vs_1_products": _proportions(churn[two], churn[one]),
        "balance_churned_vs_retained": _continuous(
            "mann_whitney", c["balance"][churned & has_balance], c["balance"][~churned & has_balance]
        ),
        "credit_score_churned_vs_retained": _continuous("welch_t", c["score"][churned], c["score"][~churned]),
        "salary_churned_vs_retained": _continuous("mann_whitney", c["est_salary"][churned], c["est_salary"][~churned]),
        "age_churned_vs_retained": _continuous("welch_t", c["age"][churned], c["age"][~churned]),
        "churn_active_vs_inactive": _proportions(churn[c["last_activity"] == 1], churn[c["last_activity"] == 0]),
        "churn_men_vs_women": _proportions(churn[c["gender"] == "М"], churn[c["gender"] == "Ж"]),
        "churn_credit_card_vs_none": _proportions(churn[c["credit_card"] == 1], churn[c["credit_card"] == 0]),
    }
    for (scheme, segment), rule in SEGMENTS.items():
        if (scheme, segment) == ("products_age", "multi_product") or scheme == "churn_prone":
            member = np.asarray(rule(c), dtype=bool)
            hid = "churn_multi_product_segment_vs_rest" if scheme == "products_age" else f"churn_{segment}_vs_rest"
            results[hid] = _proportions(churn[member], churn[~member], "greater")
    families = {
        "products": [k for k in results if k.endswith("_2_vs_1_products")],
        "churn_profile": [k for k in results if k.endswith("_churned_vs_retained")],
        "churn_drivers": ["churn_active_vs_inactive", "churn_men_vs_women", "churn_credit_card_vs_none"],
        "segments": [k for k in results if k.endswith("_vs_rest")],
    }
    for ids in families.values():
        adjusted = multipletests([results[i]["p_value"] for i in ids], method="holm")[1]
        for i, p in zip(ids, adjusted, strict=True):
            results[i]["p_value_adjusted"] = float(p)
    return results


def figures(path: str, engine: str = "pandas") -> dict[str, Any]:
    """Every figure the baseline computes on the extract at `path`, with `engine`'s dataframes."""
    found, columns = ENGINES[engine](path)
    found["segments"] = _segments(columns)
    found["hypotheses"] = _hypotheses(columns)
    found["rows"] = len(columns["churn"])
    return found


def run(path: str, engine: str = "pandas") -> dict[str, float]:
    """The baseline's seconds (read, clean, every figure) and rows, on the extract at `path`."""
    started = time.perf_counter()
    found = figures(path, engine)
    return {"seconds": time.perf_counter() - started, "rows": found["rows"]}
