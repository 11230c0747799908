"""Every hypothesis of the registry (python/metanprom/hypotheses.yml) tested on every extract it applies to."""

from metanprom.statistics.hypotheses import run_registry


def model(dbt, session):
    dbt.config(materialized="table")
    dbt.ref("dashboard_customers")  # hypotheses may compare a segment (its memberships there) with the rest
    return run_registry(dbt.ref("customers"))
