"""Each customer's cluster under the k chosen in cluster_selection.

The features are read as NumPy arrays by row number (no strings leave DuckDB); the labels
are joined back to the keys inside DuckDB.
"""

import numpy as np
import pandas as pd

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.clusters import FIT_SAMPLE, INPUT_COLUMNS, assign
from metanprom.statistics.frames import columns_frame, columns_numpy


def model(dbt, session):
    dbt.config(materialized="table")
    chosen = dict(dbt.ref("cluster_selection").filter("is_chosen").project("extract, k").fetchall())
    customers = dbt.ref("customers")
    frames = []
    for extract, k in sorted(chosen.items()):
        sample = columns_frame(customers, extract, list(INPUT_COLUMNS), sample=FIT_SAMPLE)
        everyone = columns_numpy(customers, extract, ["source_row_number", *INPUT_COLUMNS])
        labels = assign(sample, everyone, int(k))
        frames.append(
            pd.DataFrame(
                {
                    "extract": extract,
                    "source_row_number": np.asarray(everyone["source_row_number"], dtype=np.int64),
                    "cluster_id": labels,
                }
            )
        )
    assignments = session.from_df(pd.concat(frames, ignore_index=True)).set_alias("assignments")
    return (
        customers.set_alias("customers")
        .join(
            assignments,
            "customers.extract = assignments.extract and customers.source_row_number = assignments.source_row_number",
        )
        .project("customers.extract, customers.customer_key, assignments.cluster_id")
    )
