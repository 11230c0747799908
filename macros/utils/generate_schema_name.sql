{#-
    Use a model's custom schema as it is (raw, staging) instead of dbt's
    default "<target schema>_<custom schema>", so the warehouse reads
    raw.*, staging.* and main.* (the public marts). On Spark, whose
    databases a cluster shares, they are <schema>_raw, <schema>_staging and
    <schema> (`schema` in profiles.yml).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif target.type == 'spark' -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
