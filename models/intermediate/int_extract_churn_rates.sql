with

customers as (

    select * from {{ ref('int_customers_banded') }}

),

final as (

    select
        extract,
        count(*) as bank_customers,
        count(*) filter (where is_churned) as bank_churned,
        avg(is_churned::int) as bank_churn_rate

    from customers
    group by extract

)

select * from final
