{{ config(materialized='table') }}

{#- what the Python steps read of a customer: the numbers and flags, city and gender, the key and its order -#}
{%- set columns = ['extract', 'customer_key', 'sample_order', 'city_code', 'gender']
    + var('features')['numeric'] + var('features')['flags'] -%}

with

customers as (

    select * from {{ ref('int_customers_banded') }}

),

sampled as (

    -- per extract, a top-N in sample order: no sort of the whole extract
    {%- for extract in var('extract_formats') %}
        (
            select {{ columns | join(', ') }}
            from customers
            where extract = {{ sql_string(extract) }}
            order by sample_order, customer_key
            limit {{ var('sample_customers') }}
        )
        {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select * from sampled

)

select * from final
