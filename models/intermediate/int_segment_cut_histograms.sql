-- depends_on: {{ ref('stg_reference__segment_definitions') }}
{%- set schemes = segment_schemes(segment_definitions_rows()) %}

with

customers as (

    select * from {{ ref('int_customers_banded') }}

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
                    {%- set inclusive = threshold.operator in ['<=', '>'] %}
                    {%- if threshold.feature in ['balance', 'estimated_salary'] %}
                        -- money in buckets of a thousand roubles whose edges are the candidate cuts: each
                        -- value's bucket lies on the same side of every multiple of 1,000 as the value
                        {{ 'ceil' if inclusive else 'floor' }}(
                            cast({{ threshold.feature }} as double) / 1000
                        ) * 1000 as value,
                    {%- else %}
                        cast({{ threshold.feature }} as double) as value,
                    {%- endif %}
                    -- the side of the chosen cut, exact whatever the bucket
                    {{ threshold.feature }} {{ '<=' if inclusive else '<' }} {{ threshold.cut }} as is_left_of_chosen,
                    count(*) as customers,
                    count(*) filter (where is_churned) as churned

                from customers
                where
                    {{ segment_rule(segment, skip=threshold.index) }}
                    {%- if threshold.keep %}
                        and {{ threshold.keep }}
                    {%- endif %}
                    and {{ threshold.feature }} is not null
                group by all
                union all
            {%- endfor %}
        {%- endfor %}
    {%- endfor %}

    -- keeps the relation well-formed while dbt parses (no definitions read yet)
    {{ no_rows({
        'extract': 'string',
        'scheme': 'string',
        'segment_id': 'string',
        'feature': 'string',
        'operator': 'string',
        'chosen_cut': 'double',
        'value': 'double',
        'is_left_of_chosen': 'boolean',
        'customers': 'bigint',
        'churned': 'bigint',
    }, 'customers') }}

)

select * from histograms
