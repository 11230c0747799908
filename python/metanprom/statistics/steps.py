"""The computations of the dbt Python models that read only small tables, one function per model.

Each takes the model's inputs as DataFrames (by the name of the model they come
from) and its config, and returns the model's rows. On DuckDB the dbt Python
model calls it with `dbt.ref(...).df()` of each input (written out in the model,
where dbt reads its dependencies); on Spark, where dbt-spark cannot run a
Python model, the Python step (`metanprom.spark_step`) calls the same function
with the same tables read from Spark and writes the result back. One code path,
so the figures are the same on both engines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from metanprom.statistics.clusters import FIT_SAMPLE, INPUT_COLUMNS, centres, select_k
from metanprom.statistics.correlations import SAMPLE_ROWS, feature_correlations
from metanprom.statistics.frames import columns_frame, extracts_of, local_relation, sample_of
from metanprom.statistics.hypotheses import run_registry
from metanprom.statistics.registry import REGISTRY_FILE, registry_from_data
from metanprom.statistics.segments import (
    discover_segments,
    scan_cut_points,
    tested_against_rest,
    tested_on_confirmation_half,
)

TESTED_KEYS = ["extract", "feature", "feature_value"]
BANK_COLUMNS = ["extract", "bank_customers", "bank_churned"]


def _alpha(config: Mapping[str, Any]) -> float:
    return float(config.get("alpha", 0.05))


def churn_by_value_tested(inputs: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> pd.DataFrame:
    """Each value of each churn feature against the rest of its extract (one-sided), Holm per extract."""
    bank = inputs["int_extract_churn_rates"][BANK_COLUMNS]
    tested = tested_against_rest(inputs["int_churn_by_value"].merge(bank, on="extract"), family=["extract"])
    return tested[[*TESTED_KEYS, "p_value_vs_rest", "p_value_vs_rest_holm", "is_above_bank_rate"]]


def segment_counts_tested(inputs: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> pd.DataFrame:
    """Each segment against the customers outside it (one-sided), Holm per scheme and extract; on the whole
    extract, and on its confirmation half alone."""
    bank_columns = [*BANK_COLUMNS, "bank_confirmation_half_customers", "bank_confirmation_half_churned"]
    counts = inputs["int_segment_counts"].merge(inputs["int_extract_churn_rates"][bank_columns], on="extract")
    family = ["extract", "scheme"]
    tested = tested_on_confirmation_half(tested_against_rest(counts, family, _alpha(config)), family, _alpha(config))
    return tested.drop(columns=bank_columns[1:])


def cut_points(inputs: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> pd.DataFrame:
    """Churn either side of every candidate cut of each numeric threshold of the segment definitions."""
    return scan_cut_points(inputs["int_segment_cut_histograms"], alpha=_alpha(config))


def segment_discovery(inputs: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> pd.DataFrame:
    """Candidate churn-prone segments, selected on one half and confirmed on the other, Holm at each step."""
    return discover_segments(inputs["int_segment_candidates"], alpha=_alpha(config))


def _sampled(inputs: Mapping[str, pd.DataFrame]) -> duckdb.DuckDBPyRelation:
    """`int_customers_sampled` (each extract's first customers in sample order, from either engine) as a
    relation of this thread's in-memory DuckDB, on which the DuckDB build's own code runs unchanged."""
    return local_relation(inputs["int_customers_sampled"])


def cluster_selection(inputs: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> pd.DataFrame:
    """KMeans for each k on each extract's fit sample: silhouette, agreement with Ward, bootstrap stability."""
    customers = _sampled(inputs)
    frames = [
        select_k(columns_frame(customers, extract, list(INPUT_COLUMNS), sample=FIT_SAMPLE), extract)
        for extract in extracts_of(customers)
    ]
    return pd.concat(frames, ignore_index=True)


def cluster_centres(inputs: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> pd.DataFrame:
    """KMeans under each extract's chosen k, fitted on the same sample: its centres, feature by feature."""
    selection = inputs["cluster_selection"]
    chosen = selection[selection["is_chosen"].astype(bool)]
    customers = _sampled(inputs)
    frames = [
        centres(columns_frame(customers, extract, list(INPUT_COLUMNS), sample=FIT_SAMPLE), extract, int(k))
        for extract, k in sorted(zip(chosen["extract"], chosen["k"], strict=True))
    ]
    return pd.concat(frames, ignore_index=True)


def correlations(inputs: Mapping[str, pd.DataFrame], config: Mapping[str, Any]) -> pd.DataFrame:
    """Pearson, Spearman (on each extract's sample, by DuckDB) and phik (on its first rows) of every pair."""
    customers = _sampled(inputs)
    rates = inputs["int_extract_churn_rates"]
    totals = dict(zip(rates["extract"], rates["bank_customers"].astype("int64"), strict=True))
    held = inputs["int_customers_sampled"]["extract"].value_counts().to_dict()
    for extract, total in totals.items():
        if held.get(extract, 0) != min(int(total), SAMPLE_ROWS):
            raise ValueError(
                f"int_customers_sampled holds {held.get(extract, 0)} customers of {extract}; the correlations need "
                f"its first {min(int(total), SAMPLE_ROWS)} in sample order (var sample_customers in dbt_project.yml "
                f"is {SAMPLE_ROWS}: was it overridden for this build?)"
            )
    frames = [
        feature_correlations(sample_of(customers, extract, SAMPLE_ROWS), extract, customers_total=int(totals[extract]))
        for extract in extracts_of(customers)
    ]
    result = pd.concat(frames, ignore_index=True)
    result["customers_used"] = result["customers_used"].astype("Int64")
    return result


def hypotheses(inputs: Mapping[str, Any], config: Mapping[str, Any]) -> pd.DataFrame:
    """Every hypothesis of the registry (config `meta.registry`) on every extract it applies to. `customers`
    is a relation of the engine (DuckDB's, or the Python step's Spark relation): the engine computes each
    test's sufficient statistics where the customers are; a segment's members are compiled from the rules
    `int_segment_rules` holds (a relation of the same engine)."""
    registry = registry_from_data(config["meta"]["registry"], REGISTRY_FILE)
    return run_registry(inputs["customers"], registry, rules=inputs["int_segment_rules"])


@dataclass(frozen=True)
class Step:
    """A Python model's computation: the models it reads, and the function. With `relations`, the function
    takes the engine's relations of its inputs (they are read where they are, e.g. millions of customers),
    not DataFrames."""

    inputs: tuple[str, ...]
    compute: Callable[[Mapping[str, Any], Mapping[str, Any]], pd.DataFrame]
    relations: bool = False


#: Python model name -> its step.
STEPS: dict[str, Step] = {
    "int_churn_by_value_tested": Step(("int_churn_by_value", "int_extract_churn_rates"), churn_by_value_tested),
    "int_segment_counts_tested": Step(("int_segment_counts", "int_extract_churn_rates"), segment_counts_tested),
    "segment_cut_points": Step(("int_segment_cut_histograms",), cut_points),
    "segment_discovery": Step(("int_segment_candidates",), segment_discovery),
    "cluster_selection": Step(("int_customers_sampled",), cluster_selection),
    "cluster_centres": Step(("cluster_selection", "int_customers_sampled"), cluster_centres),
    "feature_correlations": Step(("int_customers_sampled", "int_extract_churn_rates"), correlations),
    "hypothesis_results": Step(("customers", "int_segment_rules"), hypotheses, relations=True),
}
