{{ config(materialized='table') }}

{%- set features = analysis_features()['categorical'] -%}

with

customers as (

    select * from {{ ref('int_customers_banded') }}

),

by_value as (

    {%- for feature in features %}

        select
            extract,
            '{{ feature.column }}' as feature,
            cast({{ feature.column }} as string) as feature_value,
            -- bigint on every engine (Spark's ranks are int)
            cast(dense_rank() over (
                partition by extract order by min({{ feature.sort_column }})
            ) as bigint) as value_order,
            count(*) as customers,
            count(*) filter (where is_churned) as churned

        from customers
        group by extract, {{ feature.column }}
        {{ 'union all' if not loop.last }}
    {%- endfor %}

)

select * from by_value
