-- depends_on: {{ ref('stg_reference__segment_definitions') }}
{%- set schemes = segment_schemes(segment_definitions_rows()) %}

with

customers as (

    select * from {{ ref('customers') }}

),

histograms as (

    {%- for scheme in schemes %}
        {%- for segment in scheme.segments %}
            {%- for threshold in segment_thresholds(segment) %}

                select
                    extract,
                    '{{ scheme.scheme }}' as scheme,
                    '{{ segment.segment_id }}' as segment_id,
                    '{{ threshold.feature }}' as feature,
                    '{{ threshold.operator }}' as operator,
                    cast({{ threshold.cut }} as double) as chosen_cut,
                    {%- if threshold.feature in ['balance', 'estimated_salary'] %}
                        -- money is scanned in thousands of roubles
                        round(cast({{ threshold.feature }} as double), -3) as value,
                    {%- else %}
                        cast({{ threshold.feature }} as double) as value,
                    {%- endif %}
                    count(*) as customers,
                    count(*) filter (where is_churned) as churned

                from customers
                where
                    {{ segment_rule(segment, skip=threshold.index) }}
                    and {{ threshold.feature }} is not null
                group by all
                union all
            {%- endfor %}
        {%- endfor %}
    {%- endfor %}

    -- keeps the relation well-formed while dbt parses (no definitions read yet)
    select
        cast(null as varchar) as extract,
        cast(null as varchar) as scheme,
        cast(null as varchar) as segment_id,
        cast(null as varchar) as feature,
        cast(null as varchar) as operator,
        cast(null as double) as chosen_cut,
        cast(null as double) as value,
        cast(null as bigint) as customers,
        cast(null as bigint) as churned
    from customers
    where false

)

select * from histograms
