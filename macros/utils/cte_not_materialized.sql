{#-
    Written between a CTE's `as` and its body: `not materialized` on DuckDB
    (which would otherwise hold a CTE read twice in memory, unspilled), nothing
    on engines without the keyword (Spark inlines every CTE).
-#}
{% macro cte_not_materialized() -%}
    {{ return(adapter.dispatch('cte_not_materialized', 'metanprom')()) }}
{%- endmacro %}

{% macro default__cte_not_materialized() -%}
{%- endmacro %}

{% macro duckdb__cte_not_materialized() -%}
    not materialized
{%- endmacro %}
