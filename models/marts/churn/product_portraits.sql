with

customers as (

    select * from {{ ref('customers') }}

),

final as (

    select
        extract,
        product_count,
        count(*) as customers,
        count(*) / sum(count(*)) over (partition by extract) as share_of_customers,
        count(*) filter (where is_churned) as churned,
        avg(is_churned::int) as churn_rate,
        avg(age) as mean_age,
        median(age) as median_age,
        avg(credit_score) as mean_credit_score,
        median(credit_score) as median_credit_score,
        avg(property_score) as mean_property_score,
        avg(balance) as mean_balance,
        median(balance) as median_balance,
        avg(estimated_salary) as mean_estimated_salary,
        median(estimated_salary) as median_estimated_salary,
        avg((gender = 'F')::int) as share_female,
        avg(is_active::int) as share_active,
        avg(has_credit_card::int) as share_with_credit_card,
        avg(has_balance::int) as share_with_balance,
        avg((city_code = 'YAR')::int) as share_yaroslavl,
        avg((city_code = 'RYB')::int) as share_rybinsk,
        avg((city_code = 'ROS')::int) as share_rostov

    from customers
    group by extract, product_count

)

select * from final
