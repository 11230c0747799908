{#-
    The whole staging of one extract format, as declared in var
    `extract_formats` (dbt_project.yml): the user's file (`extract_path`,
    its header checked first) or else the shipped seed of
    the same name, its columns renamed to the canonical names, then typed
    by `type_customer_columns` (a file's numbers by the project's grammar,
    var `number_pattern`).

    Arguments:
      extract - a key of var `extract_formats`; the seed and the var
                `<extract>_path` carry that name.

    The seed stays a dependency even when a user's file is read instead, so
    unit tests (which run on the seed's columns) always find it built.
-#}
{% macro stage_extract(extract) -%}
    {%- set columns = var('extract_formats')[extract]['columns'] -%}
    {%- set path = extract_path(extract) -%}
    {%- set seed = ref(extract) -%}
    {%- if path -%}
        {{ check_extract_header(extract, path, columns.keys() | list) }}
    {%- endif %}

with

source as (

    select * from
    {%- if path %} {{ extract_rows(extract, path) }}
    {%- else %} {{ seed }}
    {%- endif %}

),

renamed as (

    select
        {{ carried_row_number() }}
        {%- for raw, canonical in columns.items() %}
        {{ adapter.quote(raw) }} as {{ canonical }}{{ "," if not loop.last }}
        {%- endfor %}

    from source

),

typed as (

    {{ type_customer_columns('renamed', extract, text=(true if path else false)) }}

)

select * from typed
{%- endmacro %}
