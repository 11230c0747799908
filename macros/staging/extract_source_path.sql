{#-
    The user's file an extract is read from, as a SQL string literal, or
    null when the shipped seed is used.
    Arguments: extract - bank_scrooge or bank_dataset.
-#}
{% macro extract_source_path(extract) -%}
    {%- set path = extract_path(extract) -%}
    {%- if path -%}
        {{ sql_string(path) }}
    {%- else -%}
        cast(null as string)
    {%- endif -%}
{%- endmacro %}
