"""The statistics dbt's Python models and the CLI run: hypothesis tests, segments, correlations, clusters.

Importing this package loads the scientific stack, once per process and
before any of its modules: dbt runs Python models in parallel threads, and
scipy's lazily loaded submodules are not safe to import from two threads at
once. A second thread importing this package waits until the first has
finished (Python's per-module import lock), so every model finds the stack
whole. Nothing outside this package (the pipeline, a `dbt compile` of a SQL
model, the exports) loads it.
"""

import phik  # noqa: F401
import scipy.stats  # noqa: F401
import sklearn.cluster
import sklearn.metrics  # noqa: F401
import statsmodels.stats.multitest
import statsmodels.stats.proportion  # noqa: F401
