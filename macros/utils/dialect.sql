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

{#-
    One row per item of a list of SQL expressions, as a select-list
    expression (nulls included): DuckDB's unnest of a list, Spark's explode
    of an array.
    Arguments: items - the SQL expressions, in order
-#}
{% macro unnest_items(items) -%}
    {{ return(adapter.dispatch('unnest_items', 'metanprom')(items)) }}
{%- endmacro %}

{% macro default__unnest_items(items) -%}
    unnest([{{ items | join(', ') }}])
{%- endmacro %}

{% macro spark__unnest_items(items) -%}
    explode(array({{ items | join(', ') }}))
{%- endmacro %}
