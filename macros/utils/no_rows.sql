{#-
    A select with the given typed columns and no rows: keeps a relation
    well-formed when its rows come from definitions not read yet (dbt
    parsing) or from an input that was not given.
    Arguments:
      columns  - dict of column name to SQL type, in output order
      relation - a CTE or relation to select from (only for its name), or
                 none for a select without one
-#}
{% macro no_rows(columns, relation) -%}
    select
        {%- for name, type in columns.items() %}
            cast(null as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    {%- if relation is not none %}
    from {{ relation }}
    {%- endif %}
    where false
{%- endmacro %}
