{{ config(materialized='table') }}

{%- set features = discovery_features() -%}

with

customers as (

    select * from {{ ref('int_customers_banded') }}

),

cells as (

    -- one pass over the customers; int_segment_candidates then adds up cells,
    -- not customers. Features keep their own types (integers
    -- and booleans group faster than text); they become text only in the rules.
    select
        extract,
        {%- for feature in features %}
            {{ feature }},
        {%- endfor %}
        count(*) as customers,
        count(*) filter (where is_churned) as churned,
        -- the discovery half, where candidates are selected (they are confirmed on the other:
        -- the first bit of the sample order, the md5 of the key, decides; macro is_confirmation_half)
        count(*) filter (where not {{ is_confirmation_half() }}) as customers_discovery,
        count(*) filter (where not {{ is_confirmation_half() }} and is_churned) as churned_discovery

    from customers
    group by all

),

final as (

    select * from cells

)

select * from final
