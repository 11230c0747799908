{%- set extracts = var('extract_formats').keys() | list -%}

with

{% for extract in extracts -%}
    {{ extract }} as (

        -- rowid is the row's position in the staging table, which keeps the
        -- file's order (a table, not a window: numbering rows with
        -- row_number() over () would push every raw value through one thread)
        select
            *,
            rowid + 1 as source_row_number
        from {{ ref('stg_' ~ extract ~ '__customers') }}

    ),

{% endfor -%}
city_names as (

    select * from {{ ref('stg_reference__city_names') }}

),

unioned as (

    {% for extract in extracts -%}
        select * from {{ extract }}
        {%- if not loop.last %}
            union all by name
        {% endif -%}
    {%- endfor %}

),

with_city as (

    select
        unioned.*,
        city_names.city,
        city_names.city_ru,
        city_names.city_code

    from unioned
    left join city_names
        on lower(unioned.city_raw) = city_names.raw_city

)

select * from with_city
