"""Deterministic synthetic customer extracts in either of the bank's formats.

The model behind it, fitted once from the real extracts by `metanprom.devtools.calibrate`
and stored as aggregate parameters in `generator_params/<format>.json` (no rows):

* a city is drawn from the city shares;
* within a city, the other features come from a Gaussian copula: correlated
  standard normals turned into each column's own marginal (discrete value
  tables for scores, ages, counts and flags; a quantile grid for balance and
  salary). A missing balance is the bottom of the balance marginal, so it keeps
  its dependence on property score, products and the rest;
* churn is drawn from a logistic model whose per-group offsets were raked so
  that the churn rate of every category and every decile of every numeric
  column matches the real extract;
* the quirks are injected on top: customer ids shared by two people in two
  cities, missing ages (mostly on those shared ids), a few product counts of 0.

Rows are produced in fixed-size chunks, each with its own random stream
(`numpy.random.default_rng([seed, chunk])`), formatted and appended by DuckDB,
so memory stays bounded whatever the size and the output depends only on
(format, rows, seed).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy.special import expit, ndtr

from metanprom.ingest.formats import FORMATS, ExtractFormat
from metanprom.sqltext import sql_string

CHUNK_ROWS = 250_000
NUMERIC_GROUPED = ("credit_score", "age", "balance", "estimated_salary")
CATEGORICAL_GROUPED = (
    "city",
    "gender",
    "property_score",
    "product_count",
    "has_credit_card",
    "is_active",
)
GENDER_CODES = ("М", "Ж")
#: Synthetic ids: where each format's start, and how sparse they are. Design constants, never fitted: they
#: lie outside every real extract's id range (current format 94,561-229,145, older 15,565,701-15,815,690).
ID_START = {"bank_scrooge": 300_000, "bank_dataset": 16_000_000}
ID_SPAN_PER_ROW = 13
#: Ids of the current format stay below the older format's real range while the file allows it.
ID_CEILING = {"bank_scrooge": 15_000_000}
#: Quirks too rare to fit without revealing a count below 10: design constants of the generator.
MISSING_AGE_RATE = 0.0005  # outside the ids shared by two cities
MISSING_AGE_CHURN_RATE = 0.05
INVALID_PRODUCTS_EVERY = 5_000


def load_params(fmt: str) -> dict[str, Any]:
    """The stored generator parameters of a format."""
    text = resources.files("metanprom.devtools").joinpath("generator_params", f"{fmt}.json").read_text(encoding="utf-8")
    return json.loads(text)


@dataclass
class Chunk:
    """One chunk of generated customers, as canonical numpy columns."""

    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.columns["customer_id"])


def _inverse_marginal(spec: dict[str, Any], u: np.ndarray) -> np.ndarray:
    """Map uniforms to a column's marginal; NaN where the value is missing."""
    if spec["kind"] == "discrete":
        values = np.asarray(spec["values"], dtype=float)
        cum = np.asarray(spec["cum"], dtype=float)
        idx = np.minimum(np.searchsorted(cum, u, side="right"), len(values) - 1)
        return values[idx]
    p_missing = float(spec.get("p_missing", 0.0))
    probs = np.asarray(spec["probs"], dtype=float)
    values = np.asarray(spec["values"], dtype=float)
    scaled = (u - p_missing) / (1.0 - p_missing) if p_missing < 1.0 else u
    out = np.interp(np.clip(scaled, 0.0, 1.0), probs, values)
    out = np.round(out, spec.get("decimals", 2))
    if p_missing > 0.0:
        out[u < p_missing] = np.nan
    return out


def group_index(spec: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """Index of the churn group of each value: a decile for numbers (missing last), a category."""
    if "edges" in spec:
        edges = np.asarray(spec["edges"], dtype=float)
        idx = np.searchsorted(edges, x, side="right")
        idx[np.isnan(x)] = len(edges) + 1
        return idx
    return _vector_lookup(np.asarray(spec["values"], dtype=float), x)


def _vector_lookup(values: np.ndarray, x: np.ndarray) -> np.ndarray:
    order = np.argsort(values)
    sorted_values = values[order]
    pos = np.clip(np.searchsorted(sorted_values, x), 0, len(values) - 1)
    found = sorted_values[pos] == x
    return np.where(found, order[pos], len(values))


def features(params: dict[str, Any], n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw n customers' features (no ids, no churn, no quirks) from the copula model."""
    cities = list(params["city_probs"].keys())
    probs = np.asarray(list(params["city_probs"].values()), dtype=float)
    city_idx = rng.choice(len(cities), size=n, p=probs / probs.sum())
    names = params["copula_columns"]
    out = {name: np.empty(n, dtype=float) for name in names}
    for c, city in enumerate(cities):
        rows = np.flatnonzero(city_idx == c)
        if rows.size == 0:
            continue
        spec = params["by_city"][city]
        chol = np.linalg.cholesky(np.asarray(spec["corr"], dtype=float))
        z = rng.standard_normal((rows.size, len(names))) @ chol.T
        u = ndtr(z)
        for j, name in enumerate(names):
            out[name][rows] = _inverse_marginal(spec["marginals"][name], u[:, j])
    out["city"] = city_idx.astype(float)
    return out


def churn_probability(params: dict[str, Any], cols: dict[str, np.ndarray]) -> np.ndarray:
    """Churn probability of each customer under the raked logistic model."""
    model = params["churn"]
    logit = np.full(len(cols["city"]), float(model["intercept"]))
    for name, spec in model["groups"].items():
        offsets = np.asarray(model["offsets"][name] + [0.0], dtype=float)
        logit += offsets[np.minimum(group_index(spec, cols[name]), len(offsets) - 1)]
    return expit(logit)


def _chunk(params: dict[str, Any], start: int, n: int, total: int, seed: int, chunk_no: int) -> Chunk:
    rng = np.random.default_rng([seed, chunk_no])
    cols = features(params, n, rng)
    p = churn_probability(params, cols)

    quirks = params["quirks"]
    # Customer ids: a bijection of the global row number onto a range about as
    # sparse as the real one, so ids are unique before the planted duplicates.
    fmt_name = params["format"]
    span = math.ceil(ID_SPAN_PER_ROW * total)
    if fmt_name in ID_CEILING:
        span = min(span, ID_CEILING[fmt_name] - ID_START[fmt_name])
    span = max(span, total + 1)
    multiplier = 2_654_435_761
    while math.gcd(multiplier, span) != 1:
        span += 1
    rows = np.arange(start, start + n, dtype=np.int64)
    ids = ID_START[fmt_name] + (rows * multiplier + 12_345) % span

    # Ids shared by two different people in two different cities.
    duplicated = np.zeros(n, dtype=bool)
    pair_rate = float(quirks.get("duplicate_pair_rate", 0.0))
    if pair_rate > 0:
        cities = list(params["city_probs"].keys())
        a_city, b_city = (cities.index(c) for c in quirks["duplicate_cities"])
        a_rows = np.flatnonzero(cols["city"] == a_city)
        b_rows = np.flatnonzero(cols["city"] == b_city)
        pairs = min(rng.binomial(n, pair_rate), len(a_rows), len(b_rows))
        a_pick = rng.choice(a_rows, size=pairs, replace=False)
        b_pick = rng.choice(b_rows, size=pairs, replace=False)
        ids[b_pick] = ids[a_pick]
        duplicated[a_pick] = True
        duplicated[b_pick] = True

    # Missing ages: rare, and concentrated on the shared ids, as in the real file.
    has_missing = quirks.get("has_missing_ages", False)
    p_missing_age = np.where(
        duplicated, quirks.get("missing_age_rate_duplicated", 0.0), MISSING_AGE_RATE if has_missing else 0.0
    )
    missing_age = rng.random(n) < p_missing_age
    cols["age"][missing_age] = np.nan
    p[missing_age] = MISSING_AGE_CHURN_RATE

    churn = (rng.random(n) < p).astype(np.int64)

    # A few invalid product counts: one in every INVALID_PRODUCTS_EVERY rows.
    every = INVALID_PRODUCTS_EVERY if quirks.get("has_invalid_product_counts", False) else 0
    if every:
        cols["product_count"][(rows % every) == every // 2] = 0

    cols["customer_id"] = ids
    cols["is_churned"] = churn
    return Chunk(cols)


def _frame(fmt: ExtractFormat, params: dict[str, Any], chunk: Chunk) -> pd.DataFrame:
    """The chunk as a frame with the format's raw header and value types."""
    cols = chunk.columns
    cities = list(params["city_probs"].keys())
    city = np.asarray(cities, dtype=object)[cols["city"].astype(np.int64)]
    gender = np.asarray(GENDER_CODES, dtype=object)[cols["gender"].astype(np.int64)]
    as_float = fmt.name == "bank_scrooge"
    data: dict[str, Any] = {}
    for raw, canon in fmt.canonical.items():
        if canon == "city":
            data[raw] = city
        elif canon == "gender":
            data[raw] = gender
        elif canon in ("balance", "estimated_salary"):
            data[raw] = cols[canon]
        elif canon in ("credit_score", "age"):
            values = cols[canon]
            data[raw] = (
                values if as_float else pd.array(np.where(np.isnan(values), 0, values).astype(np.int64), dtype="Int64")
            )
            if not as_float:
                data[raw][np.isnan(values)] = pd.NA
        else:
            data[raw] = cols[canon].astype(np.int64)
    return pd.DataFrame(data, columns=list(fmt.header))


def generate(fmt_name: str, rows: int, out_path: str | os.PathLike[str], seed: int = 0) -> dict[str, float]:
    """Write `rows` synthetic customers of format `fmt_name` to `out_path` (atomically).

    Returns figures of the run: rows, seconds, bytes written.
    """
    if fmt_name not in FORMATS:
        raise ValueError(f"unknown extract format {fmt_name!r}; expected one of {sorted(FORMATS)}")
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    fmt = FORMATS[fmt_name]
    params = load_params(fmt_name)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    part = tmp_name + ".part.csv"
    con = duckdb.connect()
    try:
        with open(tmp_name, "wb") as sink:
            sink.write((",".join(fmt.header) + "\n").encode("utf-8"))
            for chunk_no, start in enumerate(range(0, rows, CHUNK_ROWS)):
                n = min(CHUNK_ROWS, rows - start)
                frame = _frame(fmt, params, _chunk(params, start, n, rows, seed, chunk_no))
                con.register("chunk_frame", frame)
                con.execute(
                    f"copy (select * from chunk_frame) to {sql_string(part)} "
                    "(format csv, header false, nullstr '', quote '\"')"
                )
                con.unregister("chunk_frame")
                with open(part, "rb") as piece:
                    while block := piece.read(1 << 22):
                        sink.write(block)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, out)
    finally:
        con.close()
        for leftover in (tmp_name, part):
            if os.path.exists(leftover):
                os.remove(leftover)
    return {
        "rows": rows,
        "seconds": time.perf_counter() - started,
        "bytes": out.stat().st_size,
    }
