-- A table, small: usually no key or a handful. int_customers_validated is a view,
-- read by several models and tests; with the repeated keys here it ranks only
-- their rows instead of grouping every row by key each time it is read.
{{ config(materialized='table') }}

with

customers as (

    select * from {{ ref('int_customers_unioned') }}

),

keyed as (

    select
        extract,
        {{ customer_key() }} as customer_key

    from customers

),

final as (

    select
        extract,
        customer_key,
        count(*) as rows_with_key

    from keyed
    where customer_key is not null
    group by extract, customer_key
    having count(*) > 1

)

select * from final
