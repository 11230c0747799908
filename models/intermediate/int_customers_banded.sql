-- The one table of the valid rows (with their bands): `customers` is a view of it, and the intermediate
-- models that count customers read it here.
{{ config(materialized='table') }}

with

validated as (

    select * from {{ ref('int_customers_validated') }}

),

accepted as (

    select * from validated
    where quarantine_reason is null

),

final as (

    select
        extract,
        customer_key,
        customer_id,
        source_row_number,
        city,
        city_ru,
        city_code,
        gender,
        age,
        {{ band_label('age', 'age') }} as age_band,
        {{ band_order('age', 'age') }} as age_band_order,
        credit_score,
        {{ band_label('credit_score', 'credit_score') }} as credit_score_band,
        {{ band_order('credit_score', 'credit_score') }} as credit_score_band_order,
        property_score,
        balance,
        has_balance,
        {{ band_label('balance', 'balance') }} as balance_band,
        {{ band_order('balance', 'balance') }} as balance_band_order,
        product_count,
        has_credit_card,
        is_active,
        estimated_salary,
        {{ band_label('estimated_salary', 'estimated_salary') }} as estimated_salary_band,
        {{ band_order('estimated_salary', 'estimated_salary') }} as estimated_salary_band_order,
        is_churned,
        sample_order

    from accepted

)

select * from final
