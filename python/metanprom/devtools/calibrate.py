"""Fit the generator's parameters from a real extract (aggregates only, never rows).

Run by a developer when the real extracts change:

    metanprom calibrate ../shared/data/bank_scrooge.csv bank_scrooge

It writes `python/metanprom/devtools/generator_params/<format>.json`: city shares, per
city a copula correlation and each column's marginal, churn-group edges with
raked logit offsets, and the rates of the quirks. `fidelity` compares any
generated file with the real one.

No individual customer can be read from the parameters, and no count below
MIN_CELL (10):
  * numbers with many values (balance, salary, age, credit score) are stored
    as the means of equal-count bins of at least MIN_CELL customers each (the
    generator interpolates between them), so no stored value is one
    customer's, the extremes included: the top bin is the mean of the top
    customers;
  * small value tables (property score, products, flags, gender) keep only
    values held by at least MIN_CELL customers of the city; a rarer value's
    share goes to the nearest kept value;
  * churn groups: decile edges rounded to 3 significant digits, categories
    of at least MIN_CELL customers;
  * quirks fitted only where their count is at least MIN_CELL (ids shared by
    two cities, missing ages among them); the rarer ones (missing ages
    elsewhere, their churn, invalid product counts) and the id ranges are the
    generator's design constants, never read from the data; synthetic ids lie
    outside every real extract's range.
`tests/python/test_calibrate.py` checks each rule against the real extracts.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy.special import logit, ndtri
from scipy.stats import rankdata

from metanprom import project
from metanprom.devtools.generator import (
    CATEGORICAL_GROUPED,
    GENDER_CODES,
    NUMERIC_GROUPED,
    churn_probability,
    features,
    group_index,
)
from metanprom.ingest.formats import FORMATS, NUMERIC_COLUMNS
from metanprom.sqltext import sql_string

COPULA_COLUMNS = (
    "credit_score",
    "age",
    "property_score",
    "balance",
    "product_count",
    "has_credit_card",
    "is_active",
    "estimated_salary",
    "gender",
)
CONTINUOUS = ("balance", "estimated_salary")
#: Columns stored as bin means (many distinct values), with the decimals the generator rounds them to.
BINNED = {"balance": 2, "estimated_salary": 2, "age": 0, "credit_score": 0}
#: The fewest customers any stored figure may describe.
MIN_CELL = 10
#: At most this many bins per column and city.
MAX_BINS = 200
SHRINK = 20.0  # pseudo-customers pulling a small group's churn target toward the bank's


def read_canonical(path: str | Path, fmt_name: str) -> pd.DataFrame:
    """Read an extract with DuckDB into canonical numeric columns (city kept as text)."""
    fmt = FORMATS[fmt_name]
    select = ", ".join(
        f'"{raw}" as {canon}' if canon in ("city", "gender") else f'try_cast("{raw}" as double) as {canon}'
        for raw, canon in fmt.canonical.items()
    )
    frame = duckdb.sql(f"select {select} from read_csv({sql_string(path)}, header=true, all_varchar=true)").df()
    frame["gender"] = frame["gender"].map({g: i for i, g in enumerate(GENDER_CODES)}).astype(float)
    return frame


def _marginal(values: pd.Series, name: str) -> dict[str, Any]:
    observed = np.sort(values.dropna().to_numpy(dtype=float))
    if name in BINNED:
        # equal-count bins of at least MIN_CELL customers; each stored value is a bin's mean, placed at the
        # bin's middle probability (the generator interpolates between them, and holds the end bins' means
        # beyond them)
        bins = max(1, min(MAX_BINS, len(observed) // MIN_CELL))
        edges = np.linspace(0, len(observed), bins + 1).round().astype(int)
        held = set(np.round(observed, 2).tolist())
        means = [_stored_mean(observed[lo:hi], held) for lo, hi in itertools.pairwise(edges)]
        middles = [(lo + hi) / 2 / len(observed) for lo, hi in itertools.pairwise(edges)]
        return {
            "kind": "continuous",
            "p_missing": round(float(values.isna().mean()), 4) if name in CONTINUOUS else 0.0,
            "probs": [0.0, *np.round(middles, 6).tolist(), 1.0],
            "values": [means[0], *means, means[-1]],
            "decimals": BINNED[name],
        }
    uniq, counts = np.unique(observed, return_counts=True)
    kept = counts >= MIN_CELL
    if not kept.any():
        raise ValueError(f"{name}: no value is held by {MIN_CELL} customers; the column cannot be stored")
    # a rare value's customers count at the nearest kept value
    nearest = np.array([np.flatnonzero(kept)[np.argmin(np.abs(uniq[kept] - v))] for v in uniq])
    pooled = np.bincount(nearest, weights=counts, minlength=len(uniq))[kept]
    cum = np.cumsum(pooled) / pooled.sum()
    return {"kind": "discrete", "values": uniq[kept].tolist(), "cum": cum.round(8).tolist()}


def _stored_mean(values: np.ndarray, held: set[float]) -> float:
    """A bin's mean to 2 decimals, moved up by a cent while it equals a value some customer holds (`held`):
    a stored mean then never reads as a customer's own value, whole-number ages and scores included."""
    mean = round(float(values.mean()), 2)
    while mean in held or mean == round(mean):
        mean = round(mean + 0.01, 2)
    return mean


def _normal_scores(values: pd.Series) -> np.ndarray:
    # A missing balance ranks below every balance; a missing age takes the median.
    filled = values.fillna(-np.inf) if values.name == "balance" else values.fillna(values.median())
    ranks = rankdata(filled.to_numpy(dtype=float))
    return ndtri(ranks / (len(ranks) + 1))


def _nearest_correlation(matrix: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh(matrix)
    fixed = vecs @ np.diag(np.clip(vals, 1e-6, None)) @ vecs.T
    d = np.sqrt(np.diag(fixed))
    return fixed / np.outer(d, d)


def churn_groups(real: pd.DataFrame, cities: list[str]) -> dict[str, dict[str, Any]]:
    """Churn groups: real deciles of numeric columns, the values of categorical ones."""
    groups: dict[str, dict[str, Any]] = {}
    for name in NUMERIC_GROUPED:
        deciles = np.quantile(real[name].dropna(), np.linspace(0.1, 0.9, 9))
        edges = np.unique([float(f"{edge:.3g}") for edge in deciles])  # no edge is one customer's value
        groups[name] = {"edges": edges.tolist()}
    for name in CATEGORICAL_GROUPED:
        if name == "city":
            groups[name] = {"values": list(range(len(cities)))}
        else:
            counts = real[name].value_counts()
            groups[name] = {"values": sorted(counts[counts >= MIN_CELL].index.tolist())}
    return groups


def _encode_city(real: pd.DataFrame, cities: list[str]) -> pd.DataFrame:
    out = real.copy()
    out["city"] = out["city"].map({c: i for i, c in enumerate(cities)}).astype(float)
    return out


def calibrate(path: str | Path, fmt_name: str, seed: int | None = None, sample: int = 400_000) -> dict[str, Any]:
    """Fit every generator parameter of one format from its real extract (`seed`: default the project's)."""
    seed = project.random_seed() if seed is None else seed
    fmt = FORMATS[fmt_name]
    real = read_canonical(path, fmt_name)
    cities = list(fmt.cities)
    counts = real["city"].value_counts()
    params: dict[str, Any] = {
        "format": fmt_name,
        "fitted_on_rows": len(real),
        "city_probs": {c: float(counts.get(c, 0) / len(real)) for c in cities},
        "copula_columns": list(COPULA_COLUMNS),
        "by_city": {},
    }
    model_rows = real[real["product_count"] > 0]
    for city in cities:
        part = model_rows[model_rows["city"] == city]
        scores = np.column_stack([_normal_scores(part[c].rename(c)) for c in COPULA_COLUMNS])
        corr = _nearest_correlation(np.corrcoef(scores, rowvar=False))
        params["by_city"][city] = {
            "corr": corr.round(6).tolist(),
            "marginals": {c: _marginal(part[c], c) for c in COPULA_COLUMNS},
        }

    params["quirks"] = _quirks(path, fmt_name, real)

    # Rake the churn offsets so every group's churn rate matches the real one.
    coded = _encode_city(real, cities)
    groups = churn_groups(real, cities)
    bank_rate = float(coded["is_churned"].mean())
    targets: dict[str, np.ndarray] = {}
    for name, spec in groups.items():
        idx = group_index(spec, coded[name].to_numpy(dtype=float))
        n_groups = len(spec.get("edges", spec.get("values"))) + (2 if "edges" in spec else 1)
        churned = np.bincount(idx, weights=coded["is_churned"].to_numpy(), minlength=n_groups)
        size = np.bincount(idx, minlength=n_groups)
        targets[name] = (churned + SHRINK * bank_rate) / (size + SHRINK)
    params["churn"] = {
        "intercept": float(logit(bank_rate)),
        "groups": groups,
        "offsets": {name: [0.0] * len(t) for name, t in targets.items()},
    }
    synthetic = features(params, sample, np.random.default_rng(seed))
    for _ in range(60):
        for name, spec in groups.items():
            p = churn_probability(params, synthetic)
            idx = group_index(spec, synthetic[name])
            size = np.bincount(idx, minlength=len(targets[name]))
            rate = np.bincount(idx, weights=p, minlength=len(targets[name])) / np.maximum(size, 1)
            offsets = np.asarray(params["churn"]["offsets"][name])
            wanted = logit(np.clip(targets[name], 1e-4, 1 - 1e-4))
            step = np.where(size > 0, wanted - logit(np.clip(rate, 1e-6, 1 - 1e-6)), 0.0)
            params["churn"]["offsets"][name] = (offsets + step).round(6).tolist()
    return params


def _quirks(path: str | Path, fmt_name: str, real: pd.DataFrame) -> dict[str, Any]:
    """The quirks whose counts are at least MIN_CELL; the rarer ones are the generator's design constants."""
    ids = real["customer_id"]
    dup_mask = ids.duplicated(keep=False)
    pairs = int(dup_mask.sum() // 2)
    duplicated_cities = sorted(real.loc[dup_mask, "city"].unique().tolist())
    missing_among_shared = int(real.loc[dup_mask, "age"].isna().sum())
    quirks: dict[str, Any] = {"duplicate_pair_rate": 0.0, "duplicate_cities": [], "missing_age_rate_duplicated": 0.0}
    if pairs >= MIN_CELL and len(duplicated_cities) == 2:
        quirks["duplicate_pair_rate"] = round(pairs / len(real), 4)
        quirks["duplicate_cities"] = duplicated_cities
        if missing_among_shared >= MIN_CELL:
            quirks["missing_age_rate_duplicated"] = round(missing_among_shared / int(dup_mask.sum()), 2)
    quirks["has_missing_ages"] = bool(real["age"].isna().any())
    quirks["has_invalid_product_counts"] = bool((real["product_count"] == 0).any())
    return quirks


def fidelity(real: pd.DataFrame, synthetic: pd.DataFrame, cities: list[str], min_group: int = 300) -> list[str]:
    """Every departure of `synthetic` from `real` beyond the accepted tolerances.

    Churn rate of every group of >= min_group real customers (each category,
    each real decile of each numeric column) within 3 percentage points;
    missing shares within 1 point; 10/50/90 % quantiles within 10 %.
    """
    problems: list[str] = []
    r = _encode_city(real, cities)
    s = _encode_city(synthetic, cities)
    for name, spec in churn_groups(real, cities).items():
        ri = group_index(spec, r[name].to_numpy(dtype=float))
        si = group_index(spec, s[name].to_numpy(dtype=float))
        for g in np.unique(ri):
            rmask, smask = ri == g, si == g
            if rmask.sum() < min_group:
                continue
            rr = r.loc[rmask, "is_churned"].mean()
            sr = s.loc[smask, "is_churned"].mean() if smask.any() else float("nan")
            if not abs(rr - sr) <= 0.03:
                problems.append(f"churn of {name} group {g}: real {rr:.3f}, generated {sr:.3f}")
    for name in ("age", "balance"):
        rm, sm = real[name].isna().mean(), synthetic[name].isna().mean()
        if abs(rm - sm) > 0.01:
            problems.append(f"missing share of {name}: real {rm:.4f}, generated {sm:.4f}")
    for name in NUMERIC_COLUMNS:
        for q in (0.1, 0.5, 0.9):
            rq = real[name].quantile(q)
            sq = synthetic[name].quantile(q)
            if abs(sq - rq) > 0.10 * abs(rq):
                problems.append(f"{int(q * 100)} % quantile of {name}: real {rq:.2f}, generated {sq:.2f}")
    return problems


def write_params(path: str, fmt: str, out: Path | None = None) -> Path:
    """Calibrate on the real extract at `path` and write the parameters (default: generator_params/<fmt>.json)."""
    params = calibrate(path, fmt)
    out = Path(out) if out else Path(__file__).parent / "generator_params" / f"{fmt}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(params, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return out
