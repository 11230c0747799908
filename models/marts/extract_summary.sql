with

validated as (

    select * from {{ ref('int_customers_validated') }}

),

quarantine_counts as (

    select
        extract,
        count(*) as rows_quarantined

    from validated
    where quarantine_reason is not null
    group by extract

),

customer_counts as (

    select
        extract,
        count(*) as rows_read,
        count(*) filter (where quarantine_reason is null) as customers,
        count(*) filter (where quarantine_reason is null and is_churned) as churned_customers,
        count(distinct customer_id) filter (where quarantine_reason is null) as distinct_customer_ids

    from validated
    group by extract

),

final as (

    select
        customer_counts.extract,
        case customer_counts.extract
            {%- for extract in var('extract_formats') %}
                when {{ sql_string(extract) }} then {{ extract_source_path(extract) }}
            {%- endfor %}
        end as source_path,
        customer_counts.rows_read,
        customer_counts.customers,
        coalesce(quarantine_counts.rows_quarantined, 0) as rows_quarantined,
        customer_counts.distinct_customer_ids,
        customer_counts.churned_customers,
        customer_counts.churned_customers / nullif(customer_counts.customers, 0) as churn_rate

    from customer_counts
    left join quarantine_counts
        on customer_counts.extract = quarantine_counts.extract

)

select * from final
