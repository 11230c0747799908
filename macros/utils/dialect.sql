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

{#-
    The values of a column that occur more than once in a relation, one row
    each, as a select of that column.
    Arguments:
      relation - a relation or CTE name
      column   - the column (e.g. a 64-bit hash of a key)
    DuckDB: sorted, each value compared with the one before it. A sort
    spills to disk as it goes; a hash aggregate over tens of millions of
    distinct values took all of a memory limit, and a node running beside it
    in the same database ran out of memory (the 30 million rows of
    customer_segments at 10 million customers, 2GB). Elsewhere (Spark): a
    hash aggregate, which spreads over a cluster where an unpartitioned sort
    would not.
-#}
{% macro repeated_hashes(relation, column) -%}
    {{ return(adapter.dispatch('repeated_hashes', 'metanprom')(relation, column)) }}
{%- endmacro %}

{% macro default__repeated_hashes(relation, column) -%}
    select {{ column }}
    from {{ relation }}
    group by {{ column }}
    having count(*) > 1
{%- endmacro %}

{% macro duckdb__repeated_hashes(relation, column) -%}
    select distinct {{ column }}
    from (
        select
            {{ column }},
            lag({{ column }}) over (order by {{ column }}) as previous_value
        from {{ relation }}
    ) as sorted_values
    where {{ column }} = previous_value
{%- endmacro %}

{#-
    Whether a text matches a regular expression as a whole: DuckDB's
    regexp_full_match, Spark's rlike anchored at both ends.
    Arguments:
      text    - a SQL text expression
      pattern - the regular expression (Python text; written for both
                engines' dialects, with no backslash)
-#}
{% macro full_match(text, pattern) -%}
    {{ return(adapter.dispatch('full_match', 'metanprom')(text, pattern)) }}
{%- endmacro %}

{% macro default__full_match(text, pattern) -%}
    regexp_full_match({{ text }}, {{ sql_string(pattern) }})
{%- endmacro %}

{% macro spark__full_match(text, pattern) -%}
    {{ text }} rlike {{ sql_string('^(?:' ~ pattern ~ ')$') }}
{%- endmacro %}

{#-
    A text without the spaces around it: the characters of var
    `space_separators` (Unicode's space separators, category Zs). DuckDB's
    trim() removes exactly those; Spark's removes only the space, so it is
    told the set (each as a \uXXXX escape of Spark's string literals). The
    raw gate trims the same (metanprom.ingest.gate_sql).
    Arguments: text - a SQL text expression
-#}
{% macro trim_spaces(text) -%}
    {{ return(adapter.dispatch('trim_spaces', 'metanprom')(text)) }}
{%- endmacro %}

{% macro default__trim_spaces(text) -%}
    trim({{ text }})
{%- endmacro %}

{% macro spark__trim_spaces(text) -%}
    trim(both '
    {%- for code_point in var('space_separators') -%}
        \u{{ '%04X' | format(code_point) }}
    {%- endfor -%}
    ' from {{ text }})
{%- endmacro %}
