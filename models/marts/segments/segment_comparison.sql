with

summary as (

    select * from {{ ref('segment_summary') }}

),

final as (

    select
        scheme,
        segment_id,
        any_value(segment_name) as segment_name,
        any_value(segment_name_ru) as segment_name_ru,
        {%- for extract in var('extract_formats') %}
            {%- set only = 'filter (where extract = ' ~ sql_string(extract) ~ ')' %}
            max(customers) {{ only }} as customers_{{ extract }},
            sum(share_of_base) {{ only }} as share_of_base_{{ extract }},
            sum(churn_rate) {{ only }} as churn_rate_{{ extract }},
            sum(lift) {{ only }} as lift_{{ extract }},
        {%- endfor %}
        -- in every extract format declared
        count(distinct extract) = {{ var('extract_formats') | length }} as applies_to_both

    from summary
    group by scheme, segment_id

)

select * from final
