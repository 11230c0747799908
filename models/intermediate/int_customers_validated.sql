{%- set age = var('plausible_ranges')['age'] -%}
{%- set score = var('plausible_ranges')['credit_score'] -%}
{%- set property = var('plausible_ranges')['property_score'] -%}
{%- set products = var('plausible_ranges')['product_count'] -%}

-- A view: every row's check is computed where it is read. `int_customers_banded`
-- writes the valid rows once, `customers_quarantined` the rest; at 10 million rows
-- a table here would write every row once more. The CTEs are read twice (every
-- row, and the rows of repeated keys) and are cheap to recompute from the parsed
-- base tables: `not materialized` keeps DuckDB from writing every row to a
-- temporary buffer first.
with

customers as {{ cte_not_materialized() }} (

    select * from {{ ref('int_customers_unioned') }}

),

repeated_keys as (

    -- keys used by more than one input row (valid or not): only their rows
    -- need ranking, among the valid ones
    select * from {{ ref('int_customers_repeated_keys') }}

),

keyed as {{ cte_not_materialized() }} (

    select
        *,
        {{ customer_key() }} as customer_key

    from customers

),

checked as {{ cte_not_materialized() }} (

    -- The first rule a row breaks is its quarantine reason; the order is
    -- documented in _intermediate__docs.md.
    select
        *,
        case
            when unparsed_columns is not null then 'unparsable_value'
            when customer_id is null then 'missing_customer_id'
            when
                city_raw is null or gender_raw is null or credit_score is null
                or property_score is null or product_count is null
                or has_credit_card is null or is_active is null
                or estimated_salary is null or is_churned is null
                then 'missing_value'
            when city_code is null then 'unknown_city'
            when gender is null then 'unknown_gender'
            when age is null then 'missing_age'
            when age not between {{ age[0] }} and {{ age[1] }} then 'implausible_age'
            when credit_score not between {{ score[0] }} and {{ score[1] }} then 'implausible_credit_score'
            when property_score not between {{ property[0] }} and {{ property[1] }}
                then 'implausible_property_score'
            when product_count not between {{ products[0] }} and {{ products[1] }}
                then 'invalid_product_count'
            when balance < 0 then 'negative_balance'
            when estimated_salary <= 0 then 'nonpositive_salary'
        end as validity_reason,
        case
            when unparsed_columns is not null then 'not a number or 0/1 flag: ' || unparsed_columns
            when city_code is null and city_raw is not null then 'city: ' || city_raw
            when gender is null and gender_raw is not null then 'gender: ' || gender_raw
        end as validity_detail

    from keyed

),

ranked_repeats as (

    select
        checked.extract,
        checked.source_row_number,
        row_number() over (
            partition by checked.extract, checked.customer_key
            order by checked.source_row_number
        ) as key_occurrence,
        row_number() over (
            partition by
                checked.extract, checked.customer_key, checked.credit_score, checked.gender, checked.age,
                checked.property_score, checked.balance, checked.product_count, checked.has_credit_card,
                checked.is_active, checked.estimated_salary, checked.is_churned
            order by checked.source_row_number
        ) as row_occurrence

    from checked
    inner join repeated_keys
        on
            checked.extract = repeated_keys.extract
            and checked.customer_key = repeated_keys.customer_key
    where checked.validity_reason is null

),

ranked as (

    select
        checked.*,
        ranked_repeats.key_occurrence,
        ranked_repeats.row_occurrence

    from checked
    left join ranked_repeats
        on
            checked.extract = ranked_repeats.extract
            and checked.source_row_number = ranked_repeats.source_row_number

),

final as (

    select
        extract,
        source_row_number,
        customer_key,
        -- the customer's place in every sample and split, computed once here
        {{ sample_order('customer_key') }} as sample_order,
        customer_id,
        city,
        city_ru,
        city_code,
        city_raw,
        gender,
        gender_raw,
        age,
        credit_score,
        property_score,
        balance,
        product_count,
        has_credit_card,
        is_active,
        estimated_salary,
        is_churned,
        balance is not null as has_balance,
        coalesce(
            validity_reason,
            case
                when row_occurrence > 1 then 'duplicate_row'
                when key_occurrence > 1 then 'duplicate_key'
            end
        ) as quarantine_reason,
        coalesce(
            validity_detail,
            case
                when key_occurrence > 1
                    then 'customer_key ' || customer_key || ' already used by an earlier row'
            end
        ) as quarantine_detail

    from ranked

)

select * from final
