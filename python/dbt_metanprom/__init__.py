"""A dbt plugin: on the metanprom project, dbt-spark runs the project's Python models as the Python step.

dbt-core loads every `dbt_*` module that has a `plugins` list when a command starts
(dbt.plugins, an extension point dbt marks experimental). dbt-spark submits a Python
model only to Databricks: it picks a submission helper by the model's
`submission_method` among those it knows. On the metanprom project this plugin adds
one more, `metanprom_python_step`: the Python step (metanprom.spark_step.run_step),
which reads the model's inputs from the Spark dbt runs on (the session in dbt's own
process, or the same Thrift server), runs the function the DuckDB build runs, and
writes its rows to `<model>__step_<run>`. The `python_step` materialization
(macros/spark/python_step.sql) submits that job when no step has run before it, then
turns the rows into the model's table. So a plain `dbt build --target spark` builds
the whole project. Nothing changes on DuckDB, nor on another project.
"""

from __future__ import annotations

import importlib.util
import json
from typing import Any

from dbt.plugins.manager import dbtPlugin
from dbt_common.context import try_get_invocation_context

#: The submission method the `python_step` materialization asks dbt-spark for.
SUBMISSION_METHOD = "metanprom_python_step"
PROJECT = "metanprom"


class PythonStepJob:
    """A dbt-spark submission helper (its PythonJobHelper interface: made with the model and the profile's
    credentials, then `submit(compiled_code)`). The code the materialization submits is JSON: the model's
    inputs by name with their relations, and the table the step writes."""

    def __init__(self, parsed_model: dict[str, Any], credentials: Any) -> None:
        self.model = parsed_model

    def submit(self, compiled_code: str) -> None:
        from metanprom.spark_step import SparkError, connect, run_step
        from metanprom.stack import load_statistics

        load_statistics()
        from metanprom.statistics.steps import STEPS

        job = json.loads(compiled_code)
        name = self.model["name"]
        if name not in STEPS:
            raise SparkError(f"{name}: a Python model with no Python step (metanprom.statistics.steps.STEPS)")
        run_step(connect(), STEPS[name], self.model["schema"], job["inputs"], dict(self.model["config"]), job["target"])


def _may_run_on_spark() -> bool:
    """Whether this dbt command may use dbt-spark: it is installed, and the command's profile (loaded before the
    plugins, and recorded in dbt's invocation context) is a Spark one or not known.

    On any other adapter dbt-spark is not imported at all: besides its own import time (~0.1 s), importing it
    beside phik in a DuckDB build made every such process print DuckDB's nanobind leak report at exit.
    """
    if importlib.util.find_spec("dbt.adapters.spark") is None:
        return False
    context = try_get_invocation_context()
    adapters = context.adapter_types if context is not None else set()
    return not adapters or "spark" in adapters


class PythonStepPlugin(dbtPlugin):
    """Adds the `metanprom_python_step` submission helper to dbt-spark, on the metanprom project only."""

    def initialize(self) -> None:
        if self.project_name != PROJECT or not _may_run_on_spark():
            return
        from dbt.adapters.spark.impl import SparkAdapter

        known = SparkAdapter.python_submission_helpers
        if getattr(known.fget, "with_python_step", False):
            return

        def helpers(adapter: SparkAdapter) -> dict[str, Any]:
            return {**known.fget(adapter), SUBMISSION_METHOD: PythonStepJob}

        helpers.with_python_step = True  # type: ignore[attr-defined]
        SparkAdapter.python_submission_helpers = property(helpers)  # type: ignore[method-assign,assignment]


plugins = [PythonStepPlugin]
