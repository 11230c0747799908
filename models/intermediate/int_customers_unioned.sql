{%- set extracts = var('extract_formats').keys() | list -%}

with

{% for extract in extracts -%}
    {{ extract }} as (

        {{ numbered_staged_rows(ref('stg_' ~ extract ~ '__customers')) }}

    ),

{% endfor -%}
city_names as (

    select * from {{ ref('stg_reference__city_names') }}

),

unioned as (

    {% for extract in extracts -%}
        select * from {{ extract }}
        {%- if not loop.last %}
            union all
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
