with

source as (

    select * from {{ ref('city_names') }}

),

renamed as (

    select
        city,
        city_ru,
        city_code,
        lower({{ trim_spaces('raw_city') }}) as raw_city

    from source

)

select * from renamed
