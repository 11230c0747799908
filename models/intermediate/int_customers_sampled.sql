{{ config(materialized='table') }}

{#- what the Python steps read of a customer: the numbers and flags, city and gender, the key and its order -#}
{%- set columns = ['extract', 'customer_key', 'sample_order', 'city_code', 'gender']
    + var('features')['numeric'] + var('features')['flags'] -%}
{#- per extract, the sample read below a cut-off of sample_order where one holds it (macro sample_cut_offs) -#}
{%- set cut_offs = sample_cut_offs(ref('int_customers_banded'), var('sample_customers')) -%}

with

customers as (

    select * from {{ ref('int_customers_banded') }}

),

sampled as (

    -- per extract, a top-N in sample order among the customers below its
    -- cut-off: no sort of the whole extract, and only about the sample read
    {%- for extract in var('extract_formats') %}
        {%- set below_cut_off = 'sample_order < ' ~ cut_offs[extract] if extract in cut_offs else 'true' %}
        (
            select {{ columns | join(', ') }}
            from customers
            where extract = {{ sql_string(extract) }} and {{ below_cut_off }}
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
