with

customers as (

    select * from {{ ref('int_customers_banded') }}

),

final as (

    select
        extract,
        count(*) as bank_customers,
        count(*) filter (where is_churned) as bank_churned,
        avg(is_churned::int) as bank_churn_rate,
        count(*) filter (where {{ is_confirmation_half() }}) as bank_confirmation_half_customers,
        count(*) filter (where {{ is_confirmation_half() }} and is_churned) as bank_confirmation_half_churned

    from customers
    group by extract

)

select * from final
