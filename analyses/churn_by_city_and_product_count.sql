-- Ad-hoc: churn by city and number of products, both extracts side by side.
-- `dbt compile --profiles-dir . -s churn_by_city_and_product_count` writes the SQL to target/.
with

customers as (

    select * from {{ ref('customers') }}

),

final as (

    select
        city,
        product_count,
        count(*) filter (where extract = 'bank_scrooge') as customers_current,
        avg(is_churned::int) filter (where extract = 'bank_scrooge') as churn_rate_current,
        count(*) filter (where extract = 'bank_dataset') as customers_older,
        avg(is_churned::int) filter (where extract = 'bank_dataset') as churn_rate_older

    from customers
    group by city, product_count

)

select * from final
order by city, product_count
