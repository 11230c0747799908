{{ config(materialized='table') }}

with

customers as (

    select * from {{ ref('customers') }}

),

segments as (

    select * from {{ ref('customer_segments') }}

),

clusters as (

    select * from {{ ref('customer_clusters') }}

),

definitions as (

    select * from {{ ref('stg_reference__segment_definitions') }}

),

schemes as (

    select distinct
        scheme,
        scheme_is_exclusive

    from definitions

),

-- every customer once: the rows that customer-level sheets read
customer_rows as (

    select
        extract,
        customer_key,
        'all_customers' as scheme,
        'all_customers' as segment_id

    from customers

),

-- a customer in each segment it counts in: its one segment in an exclusive
-- scheme, every segment whose rule holds in an overlapping one
membership_rows as (

    select
        segments.extract,
        segments.customer_key,
        segments.scheme,
        unnest(
            case
                when schemes.scheme_is_exclusive or segments.matched_segment_ids is null
                    then [segments.segment_id]
                else string_split(segments.matched_segment_ids, ', ')
            end
        ) as segment_id

    from segments
    inner join schemes
        on segments.scheme = schemes.scheme

),

rows_unioned as (

    select * from customer_rows
    union all
    select * from membership_rows

),

final as (

    select
        rows_unioned.extract,
        rows_unioned.customer_key,
        rows_unioned.scheme,
        rows_unioned.segment_id,
        definitions.offer_en,
        definitions.offer_ru,
        customers.city,
        customers.gender,
        customers.age,
        customers.age_band,
        customers.age_band_order,
        customers.credit_score,
        customers.credit_score_band,
        customers.credit_score_band_order,
        customers.property_score,
        customers.balance,
        customers.has_balance,
        customers.balance_band,
        customers.balance_band_order,
        customers.product_count,
        customers.has_credit_card,
        customers.is_active,
        customers.estimated_salary,
        customers.estimated_salary_band,
        customers.estimated_salary_band_order,
        clusters.cluster_id,
        customers.is_churned,
        cast(customers.is_churned as bigint) as churned,
        cast(1 as bigint) as customers,
        coalesce(
            definitions.name_en,
            case when rows_unioned.scheme = 'all_customers' then 'All customers' else 'Unassigned' end
        ) as segment_name,
        coalesce(
            definitions.name_ru,
            case when rows_unioned.scheme = 'all_customers' then 'Все клиенты' else 'Вне сегментов' end
        ) as segment_name_ru

    from rows_unioned
    inner join customers
        on
            rows_unioned.extract = customers.extract
            and rows_unioned.customer_key = customers.customer_key
    left join clusters
        on
            rows_unioned.extract = clusters.extract
            and rows_unioned.customer_key = clusters.customer_key
    left join definitions
        on
            rows_unioned.scheme = definitions.scheme
            and rows_unioned.segment_id = definitions.segment_id

)

select * from final
