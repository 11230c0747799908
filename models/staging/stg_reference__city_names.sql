with

source as (

    select * from {{ ref('city_names') }}

),

renamed as (

    select
        lower(trim(raw_city)) as raw_city,
        city,
        city_ru,
        city_code

    from source

)

select * from renamed
