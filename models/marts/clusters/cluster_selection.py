"""KMeans for each k with silhouette, agreement with Ward and bootstrap stability; the chosen k flagged."""

import pandas as pd

from metanprom.clusters import INPUT_COLUMNS, select_k


def model(dbt, session):
    dbt.config(materialized="table")
    customers = dbt.ref("customers")
    frames = []
    for (extract,) in customers.project("extract").distinct().order("extract").fetchall():
        frame = customers.filter(f"extract = '{extract}'").project(", ".join(INPUT_COLUMNS)).df()
        frames.append(select_k(frame, extract))
    return pd.concat(frames, ignore_index=True)
