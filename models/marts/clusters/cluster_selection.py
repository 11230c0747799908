"""KMeans for each k with silhouette, agreement with Ward and bootstrap stability; the chosen k flagged."""

import pandas as pd

from metanprom.stack import load_statistics

load_statistics()  # before anything from metanprom.statistics: one thread at a time

from metanprom.statistics.clusters import FIT_SAMPLE, INPUT_COLUMNS, select_k
from metanprom.statistics.frames import columns_frame, extracts_of


def model(dbt, session):
    customers = dbt.ref("customers")
    frames = []
    for extract in extracts_of(customers):
        sample = columns_frame(customers, extract, list(INPUT_COLUMNS), sample=FIT_SAMPLE)
        frames.append(select_k(sample, extract))
    return pd.concat(frames, ignore_index=True)
