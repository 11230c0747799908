"""The statistics dbt's Python models and the CLI run: hypothesis tests, segments, correlations, clusters.

Importing this package loads the scientific stack. dbt's Python models
import it through `metanprom.stack.load_statistics`, one thread at a time.
Nothing outside this package (the pipeline, a `dbt compile` of a SQL model,
the exports) loads it.
"""

import phik  # noqa: F401
import scipy.stats  # noqa: F401
import sklearn.cluster
import sklearn.metrics  # noqa: F401
import statsmodels.stats.multitest
import statsmodels.stats.proportion  # noqa: F401
