"""A dbt-duckdb plugin whose only job is to import the scientific stack once, up front.

dbt runs Python models in parallel threads; scipy's lazily loaded submodules
are not safe to import from two threads at once (a partially initialised
`scipy.stats`). Loading this plugin (profiles.yml, `plugins:`) imports them
in dbt's main thread when the DuckDB environment is created.
"""

from __future__ import annotations

import phik  # noqa: F401
import scipy.stats  # noqa: F401
import sklearn.cluster
import sklearn.metrics  # noqa: F401
import statsmodels.stats.multitest
import statsmodels.stats.proportion  # noqa: F401
from dbt.adapters.duckdb.plugins import BasePlugin

import metanprom.clusters
import metanprom.correlations
import metanprom.segments  # noqa: F401


class Plugin(BasePlugin):
    """Nothing to configure: importing the module is the point."""
