with

customers as (

    select * from {{ ref('customers') }}

),

clusters as (

    select * from {{ ref('customer_clusters') }}

),

bank as (

    select * from {{ ref('int_extract_churn_rates') }}

),

profiled as (

    select
        customers.extract,
        clusters.cluster_id,
        count(*) as customers,
        count(*) filter (where customers.is_churned) as churned,
        avg(customers.is_churned::int) as churn_rate,
        avg(customers.age) as mean_age,
        avg(customers.credit_score) as mean_credit_score,
        avg(customers.property_score) as mean_property_score,
        median(customers.balance) as median_balance,
        avg(customers.product_count) as mean_product_count,
        median(customers.estimated_salary) as median_estimated_salary,
        avg(customers.has_balance::int) as share_with_balance,
        avg(customers.has_credit_card::int) as share_with_credit_card,
        avg(customers.is_active::int) as share_active,
        avg((customers.gender = 'F')::int) as share_female,
        mode(customers.city) as most_common_city

    from customers
    inner join clusters
        on
            customers.extract = clusters.extract
            and customers.customer_key = clusters.customer_key
    group by customers.extract, clusters.cluster_id

),

final as (

    select
        profiled.*,
        profiled.customers / bank.bank_customers as share_of_base,
        profiled.churn_rate / nullif(bank.bank_churn_rate, 0) as lift

    from profiled
    inner join bank
        on profiled.extract = bank.extract

)

select * from final
