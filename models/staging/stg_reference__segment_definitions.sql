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
        {{ trim_spaces('scheme') }} as scheme,
        {{ trim_spaces('segment_id') }} as segment_id,
        coalesce(nullif({{ trim_spaces('extracts') }}, ''), 'all') as extracts,
        coalesce(nullif({{ trim_spaces('chosen_on') }}, ''), 'unknown') as chosen_on,
        {{ trim_spaces('feature_1') }} as feature_1,
        {{ trim_spaces('operator_1') }} as operator_1,
        {{ trim_spaces('value_1') }} as value_1,
        {{ trim_spaces('feature_2') }} as feature_2,
        {{ trim_spaces('operator_2') }} as operator_2,
        {{ trim_spaces('value_2') }} as value_2,
        {{ trim_spaces('feature_3') }} as feature_3,
        {{ trim_spaces('operator_3') }} as operator_3,
        {{ trim_spaces('value_3') }} as value_3

    from source

)

select * from renamed
