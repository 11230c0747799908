"""Candidate churn-prone segments of one to three features, tested against the rest with Holm's correction."""

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.segments import discover_segments


def model(dbt, session):
    dbt.config(materialized="table")
    candidates = dbt.ref("int_segment_candidates").df()
    return discover_segments(candidates, alpha=float(dbt.config.get("alpha", 0.05)))
