{#-
    A dbt Python model on Spark. dbt-spark runs Python models only on
    Databricks, so on Spark the model's computation is the Python step
    (python/metanprom/spark_step.py): it reads the model's inputs from
    Spark, runs the same function as on DuckDB (metanprom.statistics.steps)
    and writes the rows to `<model>__step_<run>` (`<run>`: var
    `python_step_run`, else the invocation id). This materialization submits
    the step (`statement` in Python, with dbt-spark's submission method
    `metanprom_python_step`, which the dbt plugin `dbt_metanprom` adds), then
    turns those rows into the model's table (and drops the step's), so the
    model's tests and everything downstream run in dbt as on DuckDB.
-#}
{% materialization python_step, adapter='spark', supported_languages=['python'] %}
    {%- set run = var('python_step_run', none) or invocation_id | replace('-', '') -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set step_relation = api.Relation.create(
        schema=this.schema, identifier=this.identifier ~ '__step_' ~ run, type='table'
    ) -%}
    {%- set inputs = {} -%}
    {%- for input in model.refs -%}
        {%- do inputs.update({input.name: ref(input.name) | string}) -%}
    {%- endfor -%}
    {%- do model.config.update({'submission_method': 'metanprom_python_step'}) -%}
    {%- call statement('python_step', language='python') -%}
        {{ tojson({'inputs': inputs, 'target': step_relation | string}) }}
    {%- endcall -%}
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

{#-
    Opens the target's connection with one trivial query, and nothing else:
    `dbt run-operation open_connection` makes dbt start its Spark session
    (method `session`) with the profile's settings before the quality gate
    on the raw extracts uses it (metanprom.spark_step.open_sql).
-#}
{% macro open_connection() %}
    {%- if execute -%}
        {%- do run_query('select 1') -%}
    {%- endif -%}
{% endmacro %}
