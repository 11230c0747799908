{%- set features = ['age', 'credit_score', 'balance', 'estimated_salary'] -%}

with

bands as (

    select
        band_rows.feature,
        band_rows.band_order,
        band_rows.band_label,
        band_rows.lower_bound,
        band_rows.upper_bound
    from (
        values
        {%- for feature in features %}
            {%- set outer_last = loop.last %}
            {%- for band in band_list(feature) %}
                (
                    '{{ feature }}',
                    {{ band.band_order }},
                    '{{ band.band_label }}',
                    {{ band.lower_bound if band.lower_bound is not none else 'null' }},
                    {{ band.upper_bound if band.upper_bound is not none else 'null' }}
                ){{ ',' if not (outer_last and loop.last) }}
            {%- endfor %}
        {%- endfor %}
    ) as band_rows (feature, band_order, band_label, lower_bound, upper_bound)

),

final as (

    select
        feature,
        band_label,
        cast(band_order as integer) as band_order,
        cast(lower_bound as double) as lower_bound,
        cast(upper_bound as double) as upper_bound

    from bands

)

select * from final
