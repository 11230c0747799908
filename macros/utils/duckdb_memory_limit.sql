{% macro duckdb_memory_limit() -%}
    {#- DuckDB's memory budget for the build: $METANPROM_DUCKDB_MEMORY_LIMIT, run as
        dbt's on-run-start hook. Not in profiles.yml: dbt re-parses the whole project
        whenever a value in the profile changes, and the bench sets a budget. Read when the hook runs
        (`run_env_var`): a new budget re-parses nothing. -#}
    {%- set limit = run_env_var('METANPROM_DUCKDB_MEMORY_LIMIT') | trim -%}
    {%- if limit and target.type == 'duckdb' -%}
        set memory_limit = {{ sql_string(limit) }}
    {%- endif -%}
{%- endmacro %}
