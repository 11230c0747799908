{{ config(materialized='table') }}

{%- set features = discovery_features() -%}

with

customers as (

    select * from {{ ref('int_customers_banded') }}

),

cells as (

    -- one pass over the customers; the grouping sets of int_segment_candidates
    -- then add up cells, not customers. Features keep their own types (integers
    -- and booleans group faster than text); they become text only in the rules.
    select
        extract,
        {%- for feature in features %}
            {{ feature }},
        {%- endfor %}
        -- two halves chosen by the first bit of the sample order (the md5 of the key, macro sample_order):
        -- candidates are selected on one, confirmed on the other
        {{ is_confirmation_half() }} as is_confirmation_half,
        count(*) as customers,
        count(*) filter (where is_churned) as churned

    from customers
    group by all

),

final as (

    select * from cells

)

select * from final
