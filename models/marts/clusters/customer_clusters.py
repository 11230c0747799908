"""Each customer's cluster under the k chosen in cluster_selection (same samples and seed)."""

import pandas as pd

from metanprom.clusters import INPUT_COLUMNS, assign


def model(dbt, session):
    dbt.config(materialized="table")
    chosen = dict(dbt.ref("cluster_selection").filter("is_chosen").project("extract, k").fetchall())
    customers = dbt.ref("customers")
    frames = []
    for extract, k in sorted(chosen.items()):
        frame = customers.filter(f"extract = '{extract}'").project(", ".join(["customer_key", *INPUT_COLUMNS])).df()
        frames.append(
            pd.DataFrame(
                {"extract": extract, "customer_key": frame["customer_key"], "cluster_id": assign(frame, int(k))}
            )
        )
    return pd.concat(frames, ignore_index=True)
