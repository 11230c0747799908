-- Nothing is silently lost: per extract, the rows staged from the input
-- equal the rows in `customers` plus the rows in `customers_quarantined`.
with

staged as (

    select
        extract,
        count(*) as rows_in
    from {{ ref('int_customers_unioned') }}
    group by extract

),

accepted as (

    select
        extract,
        count(*) as rows_accepted
    from {{ ref('customers') }}
    group by extract

),

quarantined as (

    select
        extract,
        count(*) as rows_quarantined
    from {{ ref('customers_quarantined') }}
    group by extract

),

compared as (

    select
        staged.extract,
        staged.rows_in,
        coalesce(accepted.rows_accepted, 0) as rows_accepted,
        coalesce(quarantined.rows_quarantined, 0) as rows_quarantined

    from staged
    left join accepted on staged.extract = accepted.extract
    left join quarantined on staged.extract = quarantined.extract

)

select * from compared
where rows_in <> rows_accepted + rows_quarantined
