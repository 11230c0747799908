"""Churn either side of every candidate cut of each numeric threshold in the segment definitions."""

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.segments import scan_cut_points


def model(dbt, session):
    dbt.config(materialized="table")
    histograms = dbt.ref("int_segment_cut_histograms").df()
    return scan_cut_points(histograms, alpha=float(dbt.config.get("alpha", 0.05)))
