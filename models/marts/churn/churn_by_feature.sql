{%- set features = analysis_features()['categorical'] -%}

with

customers as (

    select * from {{ ref('customers') }}

),

bank as (

    select * from {{ ref('int_extract_churn_rates') }}

),

by_value as (

    {%- for feature in features %}

        select
            extract,
            '{{ feature.column }}' as feature,
            cast({{ feature.column }} as varchar) as feature_value,
            dense_rank() over (
                partition by extract order by min({{ feature.sort_column }})
            ) as value_order,
            count(*) as customers,
            count(*) filter (where is_churned) as churned

        from customers
        group by extract, {{ feature.column }}
        {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select
        by_value.extract,
        by_value.feature,
        by_value.feature_value,
        by_value.value_order,
        by_value.customers,
        by_value.churned,
        by_value.customers / bank.bank_customers as share_of_customers,
        by_value.churned / by_value.customers as churn_rate,
        {{ wilson_bound('by_value.churned', 'by_value.customers', 'lower') }} as churn_rate_ci_low,
        {{ wilson_bound('by_value.churned', 'by_value.customers', 'upper') }} as churn_rate_ci_high,
        bank.bank_churn_rate,
        (by_value.churned / by_value.customers) / nullif(bank.bank_churn_rate, 0) as lift,
        {{ wilson_bound('by_value.churned', 'by_value.customers', 'lower') }}
        > bank.bank_churn_rate as is_above_bank_rate

    from by_value
    inner join bank
        on by_value.extract = bank.extract

)

select * from final
