with

raw_checks as (

    select * from {{ ref('stg_quality__raw_checks') }}

),

quarantined as (

    select * from {{ ref('customers_quarantined') }}

),

checks as (

    select
        dataset as extract,
        'great_expectations: raw extract' as gate,
        check_name,
        column_name,
        severity,
        success,
        unexpected_count as affected_rows,
        observed as detail

    from raw_checks

),

quarantine as (

    select
        extract,
        'dbt: quarantine' as gate,
        'rows quarantined: ' || quarantine_reason as check_name,
        cast(null as string) as column_name,
        'warning' as severity,
        false as success,
        count(*) as affected_rows,
        any_value(quarantine_detail) as detail

    from quarantined
    group by extract, quarantine_reason

),

final as (

    select * from checks
    union all
    select * from quarantine

)

select * from final
