"""Fit the generator's parameters from a real extract (aggregates only, never rows).

Run by a developer when the real extracts change:

    python -m metanprom.calibrate ../shared/data/bank_scrooge.csv bank_scrooge

It writes `python/metanprom/generator_params/<format>.json`: city shares, per
city a copula correlation and each column's marginal (value tables and
quantile grids), churn-group edges with raked logit offsets, and the rates of
the quirks. `fidelity` compares any generated file with the real one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy.special import logit, ndtri
from scipy.stats import rankdata

from metanprom.formats import FORMATS, NUMERIC_COLUMNS
from metanprom.generator import (
    CATEGORICAL_GROUPED,
    GENDER_CODES,
    NUMERIC_GROUPED,
    churn_probability,
    features,
    group_index,
)

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
QUANTILE_GRID = np.concatenate([np.linspace(0.0, 0.99, 199), [0.9925, 0.995, 0.9975, 0.999, 1.0]])
SHRINK = 20.0  # pseudo-customers pulling a small group's churn target toward the bank's


def read_canonical(path: str | Path, fmt_name: str) -> pd.DataFrame:
    """Read an extract with DuckDB into canonical numeric columns (city kept as text)."""
    fmt = FORMATS[fmt_name]
    select = ", ".join(
        f'"{raw}" as {canon}' if canon in ("city", "gender") else f'try_cast("{raw}" as double) as {canon}'
        for raw, canon in fmt.canonical.items()
    )
    frame = duckdb.sql(f"select {select} from read_csv('{path}', header=true, all_varchar=true)").df()
    frame["gender"] = frame["gender"].map({g: i for i, g in enumerate(GENDER_CODES)}).astype(float)
    return frame


def _marginal(values: pd.Series, name: str) -> dict[str, Any]:
    observed = values.dropna().to_numpy(dtype=float)
    if name in CONTINUOUS:
        return {
            "kind": "continuous",
            "p_missing": float(values.isna().mean()),
            "probs": QUANTILE_GRID.round(6).tolist(),
            "values": np.quantile(observed, QUANTILE_GRID).round(2).tolist(),
            "decimals": 2,
        }
    uniq, counts = np.unique(observed, return_counts=True)
    cum = np.cumsum(counts) / counts.sum()
    return {"kind": "discrete", "values": uniq.tolist(), "cum": cum.round(8).tolist()}


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
        edges = np.unique(np.quantile(real[name].dropna(), np.linspace(0.1, 0.9, 9)))
        groups[name] = {"edges": edges.tolist()}
    for name in CATEGORICAL_GROUPED:
        if name == "city":
            groups[name] = {"values": list(range(len(cities)))}
        else:
            groups[name] = {"values": sorted(real[name].dropna().unique().tolist())}
    return groups


def _encode_city(real: pd.DataFrame, cities: list[str]) -> pd.DataFrame:
    out = real.copy()
    out["city"] = out["city"].map({c: i for i, c in enumerate(cities)}).astype(float)
    return out


def calibrate(path: str | Path, fmt_name: str, seed: int = 20261123, sample: int = 400_000) -> dict[str, Any]:
    """Fit every generator parameter of one format from its real extract."""
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
    ids = real["customer_id"]
    positive = ids.dropna()
    span = (positive.max() - positive.min()) / len(real)
    dup_mask = ids.duplicated(keep=False)
    duplicated_cities = sorted(real.loc[dup_mask, "city"].unique().tolist())
    quirks: dict[str, Any] = {
        "id_start": int(positive.min()),
        "id_span_per_row": round(float(span), 3),
        "duplicate_pair_rate": round(float(dup_mask.sum() / 2 / len(real)), 6),
        "duplicate_cities": duplicated_cities if len(duplicated_cities) == 2 else [],
        "missing_age_rate": round(float(real.loc[~dup_mask, "age"].isna().mean()), 6),
        "missing_age_rate_duplicated": round(float(real.loc[dup_mask, "age"].isna().mean()), 6)
        if dup_mask.any()
        else 0.0,
        "missing_age_churn_rate": round(float(real.loc[real["age"].isna(), "is_churned"].mean()), 4)
        if real["age"].isna().any()
        else 0.0,
        "invalid_products_every": round(len(real) / max((real["product_count"] == 0).sum(), 1))
        if (real["product_count"] == 0).any()
        else 0,
    }
    if not quirks["duplicate_cities"]:
        quirks["duplicate_pair_rate"] = 0.0
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="the real extract")
    parser.add_argument("format", choices=sorted(FORMATS))
    parser.add_argument("--out", default=None, help="where to write the parameters")
    args = parser.parse_args(argv)
    params = calibrate(args.path, args.format)
    out = Path(args.out) if args.out else Path(__file__).parent / "generator_params" / f"{args.format}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(params, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
