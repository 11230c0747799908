"""Every hypothesis of the registry (this model's config.meta.registry) tested on every extract it applies to."""

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.hypotheses import run_registry
from metanprom.statistics.registry import REGISTRY_FILE, registry_from_data


def model(dbt, session):
    # plain call: dbt passes a Python model only the config keys it finds in `dbt.config.get(...)` statements
    meta = dbt.config.get("meta")
    registry = registry_from_data(meta["registry"], REGISTRY_FILE)
    # a segment hypothesis compiles its members' SQL from the rules held here (registry.segment_membership)
    dbt.ref("segment_summary")
    return run_registry(dbt.ref("customers"), registry)
