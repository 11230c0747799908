with

base as (

    -- rowid is the row's position in the base table, which keeps the file's
    -- order (a table, not a window: numbering rows with row_number() over ()
    -- would push every raw value through one thread)
    select
        *,
        rowid + 1 as source_row_number

    from {{ ref('base_bank_dataset__customers') }}

)

select * from base
