{%- set dimensions = ['city', 'product_count', 'property_score', 'is_active', 'is_churned', 'gender',
    'has_credit_card', 'age_band'] -%}

with

customers as (

    select * from {{ ref('customers') }}

),

by_value as (

    {%- for dimension in dimensions %}

        select
            extract,
            '{{ dimension }}' as dimension,
            cast({{ dimension }} as string) as dimension_value,
            count(*) as customers,
            count(*) filter (where not has_balance) as customers_without_balance,
            avg(is_churned::int) filter (where not has_balance) as churn_rate_without_balance,
            avg(is_churned::int) filter (where has_balance) as churn_rate_with_balance

        from customers
        group by extract, {{ dimension }}
        {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select
        extract,
        dimension,
        dimension_value,
        customers,
        customers_without_balance,
        churn_rate_without_balance,
        churn_rate_with_balance,
        customers_without_balance / customers as share_without_balance,
        customers / sum(customers) over (partition by extract, dimension) as share_of_customers,
        customers_without_balance
        / nullif(sum(customers_without_balance) over (partition by extract, dimension), 0)
            as share_of_customers_without_balance

    from by_value

)

select * from final
