"""Each segment against the customers outside it: the one-sided test behind segment_summary.is_above_bank_rate,
Holm over the segments of a scheme in an extract."""

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.segments import tested_against_rest


def model(dbt, session):
    dbt.config(materialized="table")
    counts = dbt.ref("int_segment_counts").df()
    bank = dbt.ref("int_extract_churn_rates").df()[["extract", "bank_customers", "bank_churned"]]
    tested = tested_against_rest(counts.merge(bank, on="extract"), family=["extract", "scheme"])
    return tested.drop(columns=["bank_customers", "bank_churned"])
