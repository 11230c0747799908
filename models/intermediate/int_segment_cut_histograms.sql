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
    {{ no_rows({
        'extract': 'varchar',
        'scheme': 'varchar',
        'segment_id': 'varchar',
        'feature': 'varchar',
        'operator': 'varchar',
        'chosen_cut': 'double',
        'value': 'double',
        'customers': 'bigint',
        'churned': 'bigint',
    }, 'customers') }}

)

select * from histograms
