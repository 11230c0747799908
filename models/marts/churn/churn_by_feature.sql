with

by_value as (

    select * from {{ ref('int_churn_by_value') }}

),

bank as (

    select * from {{ ref('int_extract_churn_rates') }}

),

tested as (

    select * from {{ ref('int_churn_by_value_tested') }}

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
        tested.p_value_vs_rest,
        tested.p_value_vs_rest_holm,
        tested.is_above_bank_rate

    from by_value
    inner join bank
        on by_value.extract = bank.extract
    inner join tested
        on
            by_value.extract = tested.extract
            and by_value.feature = tested.feature
            and by_value.feature_value is not distinct from tested.feature_value

)

select * from final
