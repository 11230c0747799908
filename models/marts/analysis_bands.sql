{%- set features = ['age', 'credit_score', 'balance', 'estimated_salary'] -%}

with

bands as (

    {%- for feature in features %}
    {%- for band in band_list(feature) %}
    select
        '{{ feature }}' as feature,
        {{ band.band_order }} as band_order,
        '{{ band.band_label }}' as band_label,
        cast({{ band.lower_bound if band.lower_bound is not none else 'null' }} as double) as lower_bound,
        cast({{ band.upper_bound if band.upper_bound is not none else 'null' }} as double) as upper_bound
    {{ 'union all' if not loop.last }}
    {%- endfor %}
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select * from bands

)

select * from final
