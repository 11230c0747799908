with

source as (

    select * from {{ ref('segment_definitions') }}

),

renamed as (

    select
        scheme_is_exclusive,
        precedence,
        name_en,
        name_ru,
        description_en,
        description_ru,
        offer_en,
        offer_ru,
        trim(scheme) as scheme,
        trim(segment_id) as segment_id,
        coalesce(nullif(trim(extracts), ''), 'all') as extracts,
        coalesce(nullif(trim(chosen_on), ''), 'unknown') as chosen_on,
        trim(feature_1) as feature_1,
        trim(operator_1) as operator_1,
        trim(value_1) as value_1,
        trim(feature_2) as feature_2,
        trim(operator_2) as operator_2,
        trim(value_2) as value_2,
        trim(feature_3) as feature_3,
        trim(operator_3) as operator_3,
        trim(value_3) as value_3

    from source

)

select * from renamed
