with

bank_scrooge as (

    select * from {{ ref('stg_bank_scrooge__customers') }}

),

bank_dataset as (

    select * from {{ ref('stg_bank_dataset__customers') }}

),

city_names as (

    select * from {{ ref('stg_reference__city_names') }}

),

unioned as (

    select * from bank_scrooge
    union all by name
    select * from bank_dataset

),

with_city as (

    select
        unioned.*,
        city_names.city,
        city_names.city_ru,
        city_names.city_code

    from unioned
    left join city_names
        on lower(unioned.city_raw) = city_names.raw_city

)

select * from with_city
