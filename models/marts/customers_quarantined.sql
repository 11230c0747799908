with

validated as (

    select * from {{ ref('int_customers_validated') }}

),

final as (

    select
        extract,
        source_row_number,
        quarantine_reason,
        quarantine_detail,
        customer_key,
        customer_id,
        city_raw,
        city_code,
        gender_raw,
        age,
        credit_score,
        property_score,
        balance,
        product_count,
        has_credit_card,
        is_active,
        estimated_salary,
        is_churned

    from validated
    where quarantine_reason is not null

)

select * from final
