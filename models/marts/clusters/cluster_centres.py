"""KMeans under the k chosen in cluster_selection, fitted on the fixed sample: its centres, feature by feature."""

import pandas as pd

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.clusters import FIT_SAMPLE, INPUT_COLUMNS, centres
from metanprom.statistics.frames import columns_frame


def model(dbt, session):
    chosen = dict(dbt.ref("cluster_selection").filter("is_chosen").project("extract, k").fetchall())
    customers = dbt.ref("customers")
    frames = [
        centres(columns_frame(customers, extract, list(INPUT_COLUMNS), sample=FIT_SAMPLE), extract, int(k))
        for extract, k in sorted(chosen.items())
    ]
    return pd.concat(frames, ignore_index=True)
