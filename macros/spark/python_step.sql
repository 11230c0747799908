{#-
    A dbt Python model on Spark. dbt-spark runs Python models only on
    Databricks, so on Spark the model's computation is the Python step
    (`metanprom spark-build`, python/metanprom/spark_step.py): it
    reads the model's inputs from Spark, runs the same function as on DuckDB
    (metanprom.statistics.steps) and writes the rows to
    `<model>__step_<run>`, `<run>` being var `python_step_run`. This
    materialization turns those rows into the model's table (and drops the
    step's), so the model's tests and everything downstream run in dbt as on
    DuckDB. Without the step's rows it fails, naming the model and what to run.
-#}
{% materialization python_step, adapter='spark', supported_languages=['python'] %}
    {%- set run = var('python_step_run', none) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set step_relation = api.Relation.create(
        schema=this.schema, identifier=this.identifier ~ '__step_' ~ run, type='table'
    ) -%}
    {%- if run is none or adapter.get_relation(database=none, schema=this.schema, identifier=step_relation.identifier) is none -%}
        {{ exceptions.raise_compiler_error(
            this.identifier ~ " is a Python model: on Spark the Python step computes it (dbt-spark runs Python models "
            ~ "only on Databricks). Build with `metanprom spark-build`, or leave it out: --exclude "
            ~ this.identifier ~ "+"
            ~ (" (the step of run " ~ run ~ " wrote no " ~ step_relation ~ ")" if run is not none else "")
        ) }}
    {%- endif -%}
    {{ run_hooks(pre_hooks) }}
    {%- set existing = adapter.get_relation(database=none, schema=this.schema, identifier=this.identifier) -%}
    {%- if existing is not none -%}
        {{ adapter.drop_relation(existing) }}
    {%- endif -%}
    {% call statement('main') -%}
        create table {{ target_relation }} using parquet as select * from {{ step_relation }}
    {%- endcall %}
    {{ adapter.drop_relation(step_relation) }}
    {% do persist_docs(target_relation, model) %}
    {{ run_hooks(post_hooks) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
