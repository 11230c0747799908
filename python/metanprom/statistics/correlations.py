"""Feature correlations: each feature against churn and pairwise (Pearson, Spearman, phik)."""

from __future__ import annotations

import itertools
import warnings

import duckdb
import numpy as np
import pandas as pd
from phik import definitions as phik_definitions
from phik.binning import auto_bin_data
from phik.phik import phik_from_hist2d
from phik.significance import significance_from_hist2d
from scipy import stats

from metanprom import project
from metanprom.sqltext import sql_string

NUMERIC = tuple(project.features()["numeric"])
FLAGS = tuple(project.features()["flags"])
CATEGORICAL = ("city_code", "gender")
#: Above this many customers per extract the statistics use a fixed sample of this size (frames.SAMPLE_ORDER):
#: var `sample_customers`, the size of int_customers_sampled.
SAMPLE_ROWS = int(project.declarations()["sample_customers"])
#: phik and its (asymptotic) significance use a smaller sample.
PHIK_SAMPLE_ROWS = 20_000
#: phik's interval columns, binned into this many equal-count bins (deciles).
PHIK_INTERVAL = ("age", "credit_score", "balance", "estimated_salary")
PHIK_BINS = 10
#: What a missing balance is filled with for phik: below every balance, in a bin of its own.
NO_BALANCE = -1.0


def phik_bins(frame: pd.DataFrame) -> dict[str, list[float]]:
    """Bin edges of phik's interval columns: the deciles of the customers who have a value.

    phik's default is 10 equal-width bins from the minimum to the maximum: with a
    heavy right tail (a few balances of tens of millions) nearly every customer
    falls in the first bin (99.8 % of balances on the real current extract, every
    missing-balance fill included; 61 % of salaries), and phik then measures
    almost nothing. Equal-count bins put about a tenth of the customers in each;
    the missing-balance fill gets a bin of its own below the first decile.
    """
    bins = {}
    for name in PHIK_INTERVAL:
        values = frame[name].to_numpy(dtype=float)
        present = values[~np.isnan(values) & (values != NO_BALANCE)] if name == "balance" else values
        present = present[~np.isnan(present)]
        inner = np.unique(np.quantile(present, np.linspace(0, 1, PHIK_BINS + 1))[1:-1])
        low, high = float(present.min()), float(present.max())
        edges = [low - 1.0, *inner.tolist(), high + 1.0]
        if name == "balance" and (values == NO_BALANCE).any():
            edges = [NO_BALANCE - 1.0, NO_BALANCE + 0.5, *edges[1:]] if low > NO_BALANCE + 0.5 else edges
        bins[name] = edges
    return bins


def phik_pairs(frame: pd.DataFrame, bins: dict[str, list[float]]) -> pd.DataFrame:
    """phik and its significance (asymptotic, as a z-score) of every pair of `frame`'s columns, PHIK_INTERVAL's
    binned at `bins`: one row per pair (phik_feature_a, phik_feature_b, phik, phik_significance_z).

    The figures of phik's `phik_matrix` and `significance_matrix` (njobs=1, significance_method="asymptotic")
    to the bit: phik's own binning (`auto_bin_data`, which also drops a column with a single value) and its
    statistics on each pair's contingency table (`phik_from_hist2d`, `significance_from_hist2d`). Only the table
    is counted here, once per pair for both figures, by `np.bincount` over each column's sorted codes, where the
    two matrices each count it again with a pandas group-by (0.85 s -> 0.26 s an extract of 10,000 rows). As
    there, a row with a missing value or in an under- or overflow bin is left out of the pair's table, and a
    pair whose table has a single row or column gets no figures."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # phik's notes on columns with many values, as the matrices were called
        return _phik_pairs(frame, bins)


def _phik_pairs(frame: pd.DataFrame, bins: dict[str, list[float]]) -> pd.DataFrame:
    binned, _ = auto_bin_data(frame, interval_cols=list(PHIK_INTERVAL), bins=bins, dropna=True, verbose=False)
    binned = binned.replace([phik_definitions.UF, phik_definitions.OF], np.nan)
    codes = {name: pd.factorize(binned[name], sort=True) for name in binned.columns}
    rows = []
    for a, b in itertools.combinations(binned.columns, 2):
        (codes_a, values_a), (codes_b, values_b) = codes[a], codes[b]
        both = (codes_a >= 0) & (codes_b >= 0)
        cells = len(values_a) * len(values_b)
        table = np.bincount(codes_a[both] * len(values_b) + codes_b[both], minlength=cells).astype(float)
        table = table.reshape(len(values_a), len(values_b))
        table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
        phik = significance = np.nan
        if min(table.shape) > 1:
            phik = float(phik_from_hist2d(table))
            significance = float(significance_from_hist2d(table, significance_method="asymptotic")[1])
        rows.append({"phik_feature_a": a, "phik_feature_b": b, "phik": phik, "phik_significance_z": significance})
    return pd.DataFrame(rows, columns=["phik_feature_a", "phik_feature_b", "phik", "phik_significance_z"])


def _encoded_sql(sample: duckdb.DuckDBPyRelation) -> dict[str, str]:
    """The correlated columns as SQL over the customers: numbers, 0/1 flags, female, one column per city."""
    columns = {name: f"cast({name} as double)" for name in (*NUMERIC, *FLAGS)}
    columns["gender_female"] = "cast(coalesce(gender = 'F', false) as double)"
    codes = sorted(
        r[0] for r in sample.query("s", "select distinct city_code from s where city_code is not null").fetchall()
    )
    for code in codes:
        columns[f"city_{code.lower()}"] = f"cast(coalesce(city_code = {sql_string(code)}, false) as double)"
    return columns


def pearson_spearman(sample: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """Pearson and Spearman of every pair of correlated columns, one row per pair, computed by the engine.

    A pair uses the customers who have both values (a missing balance leaves its customers out of the
    balance pairs). Spearman is Pearson on the average ranks within those customers, as scipy's spearmanr.
    The engine returns r, n and whether both columns vary; the p-values come from scipy's distributions
    (Pearson's exact beta null distribution and Spearman's t approximation, as pearsonr and spearmanr)."""
    columns = _encoded_sql(sample)
    names = list(columns)
    encoded = sample.query("s", "select " + ", ".join(f"{sql} as {name}" for name, sql in columns.items()) + " from s")
    counts = encoded.aggregate(
        ", ".join(f"count({name}), count(distinct {name})" for name in names) + ", count(*)"
    ).fetchall()[0]
    nullable = {name for name, n in zip(names, counts[:-1:2], strict=True) if n < counts[-1]}
    # a column of at most two values is its own rank: its average ranks are an increasing affine function of its
    # values, and r does not change under one; the 0/1 flags and cities (8 of 14 columns) need no window
    two_valued = {name for name, distinct in zip(names, counts[1:-1:2], strict=True) if distinct <= 2}
    pairs = list(itertools.combinations(names, 2))
    rows = []
    for subset in sorted({tuple(sorted(nullable & {a, b})) for a, b in pairs}):
        chosen = [(a, b) for a, b in pairs if tuple(sorted(nullable & {a, b})) == subset]
        used = [name for name in names if any(name in pair for pair in chosen)]
        # every column of a chosen pair has a value in every customer kept: a nullable one is in the subset
        kept = encoded.filter(" and ".join(f"{name} is not null" for name in subset) or "true")
        # each ranked column's average rank (ties share the mean of their ranks), within the customers kept
        rank = {name: name if name in two_valued else f"rank_{name}" for name in used}
        ranks = "".join(
            f", rank() over (order by {name}) + (count(*) over (partition by {name}) - 1) / 2 as rank_{name}"
            for name in used
            if name not in two_valued
        )
        aggregates = [
            "count(*)",
            *(f"min({name}) < max({name})" for name in used),
            *(f"corr({a}, {b}), corr({rank[a]}, {rank[b]})" for a, b in chosen),
        ]
        result = kept.query("k", f"select {', '.join(aggregates)} from (select *{ranks} from k)").fetchall()[0]
        n, varies = result[0], dict(zip(used, result[1 : 1 + len(used)], strict=True))
        for index, (a, b) in enumerate(chosen):
            pearson, spearman = result[1 + len(used) + 2 * index : 3 + len(used) + 2 * index]
            if n < 3 or not (varies[a] and varies[b]):
                continue
            pearson, spearman = (float(np.clip(r, -1.0, 1.0)) for r in (pearson, spearman))
            rows.append(
                {
                    "feature_a": a,
                    "feature_b": b,
                    "customers_used": int(n),
                    "pearson": pearson,
                    "pearson_p_value": _pearson_p(pearson, int(n)),
                    "spearman": spearman,
                    "spearman_p_value": _spearman_p(spearman, int(n)),
                }
            )
    return pd.DataFrame(rows)


def _pearson_p(r: float, n: int) -> float:
    """Two-sided p-value of Pearson's r: its exact null distribution, beta(n/2 - 1, n/2 - 1) on (-1, 1)."""
    half = n / 2 - 1
    # the distribution's own sf, not a frozen one, which builds its docstring: 0.34 ms against 0.03 ms a call,
    # for ~100 pairs an extract
    return float(min(1.0, 2 * stats.beta.sf(abs(r), half, half, loc=-1, scale=2)))


def _spearman_p(rs: float, n: int) -> float:
    """Two-sided p-value of Spearman's rs: Student's t with n - 2 degrees of freedom."""
    dof = n - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = rs * np.sqrt(max(dof / ((rs + 1.0) * (1.0 - rs)), 0.0))
    return float(2 * stats.t.sf(abs(t), dof))


def feature_correlations(
    sample: duckdb.DuckDBPyRelation, extract: str, customers_total: int | None = None
) -> pd.DataFrame:
    """One row per pair of features of one extract (churn included as a feature).

    `sample` is the extract's first SAMPLE_ROWS customers in sample order (`frames.sample_of`). Pearson and
    Spearman on numeric, 0/1 and one-hot columns are computed on it by the engine (`pearson_spearman`);
    phik on the original columns (numeric ones as interval) of its first PHIK_SAMPLE_ROWS customers, with
    its significance as a z-score. `customers_total` is the extract's size (default: the sample's).
    """
    customers_total = customers_total or int(sample.aggregate("count(*)").fetchall()[0][0])
    result = pearson_spearman(sample)
    frame = sample.limit(PHIK_SAMPLE_ROWS).project(", ".join([*NUMERIC, *FLAGS, *CATEGORICAL])).df()

    phik_frame = frame[[*NUMERIC, *FLAGS, *CATEGORICAL]].copy()
    for flag in FLAGS:
        phik_frame[flag] = phik_frame[flag].astype(int)
    phik_frame["balance"] = phik_frame["balance"].fillna(NO_BALANCE)  # "no balance": a bin of its own
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bins = phik_bins(phik_frame)
    phik_result = phik_pairs(phik_frame, bins)
    mapping = {"gender": "gender_female"}
    phik_result["feature_a"] = phik_result["phik_feature_a"].replace(mapping)
    phik_result["feature_b"] = phik_result["phik_feature_b"].replace(mapping)
    merged = result.merge(
        phik_result.drop(columns=["phik_feature_a", "phik_feature_b"]), on=["feature_a", "feature_b"], how="outer"
    )
    merged.insert(0, "extract", extract)
    merged["customers_in_extract"] = customers_total
    merged["is_churn_pair"] = (merged["feature_a"] == "is_churned") | (merged["feature_b"] == "is_churned")
    return merged.sort_values(["is_churn_pair", "feature_a", "feature_b"], ascending=[False, True, True])
