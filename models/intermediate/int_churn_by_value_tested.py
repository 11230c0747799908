"""Each value of each churn feature against the rest of its extract: the one-sided test behind
churn_by_feature.is_above_bank_rate, Holm over every value of every feature of the extract."""

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.segments import tested_against_rest

KEYS = ["extract", "feature", "feature_value"]


def model(dbt, session):
    dbt.config(materialized="table")
    by_value = dbt.ref("int_churn_by_value").df()
    bank = dbt.ref("int_extract_churn_rates").df()[["extract", "bank_customers", "bank_churned"]]
    tested = tested_against_rest(by_value.merge(bank, on="extract"), family=["extract"])
    return tested[[*KEYS, "p_value_vs_rest", "p_value_vs_rest_holm", "is_above_bank_rate"]]
