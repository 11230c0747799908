-- a view: 30 million rows at 10 million customers, read only by the exports and tests; each read
-- recomputes the memberships from `customers` rather than the build writing them once more
{{ config(materialized='view') }}
-- depends_on: {{ ref('stg_reference__segment_definitions') }}
{%- set schemes = segment_schemes(segment_definitions_rows()) %}

with

customers as (

    select * from {{ ref('customers') }}

),

assigned as (

    {%- for scheme in schemes %}

        select
            extract,
            customer_key,
            '{{ scheme.scheme }}' as scheme,
            case
                {%- for segment in scheme.segments %}
                    when {{ segment_membership(scheme, loop.index0) }} then '{{ segment.segment_id }}'
                {%- endfor %}
                else 'unassigned'
            end as segment_id,
            nullif(concat_ws(
                ', ',
                {%- for segment in scheme.segments %}
                    case when {{ segment_rule(segment) }} then '{{ segment.segment_id }}' end
                    {{- ',' if not loop.last }}
                {%- endfor %}
            ), '') as matched_segment_ids,
            is_churned

        from customers
        where {{ segment_scheme_extracts(scheme) }}
        union all
    {%- endfor %}

    -- keeps the relation well-formed while dbt parses (no definitions read yet)
    {{ no_rows({
        'extract': 'string',
        'customer_key': 'string',
        'scheme': 'string',
        'segment_id': 'string',
        'matched_segment_ids': 'string',
        'is_churned': 'boolean',
    }, 'customers') }}

),

final as (

    select
        extract,
        customer_key,
        scheme,
        segment_id,
        matched_segment_ids,
        is_churned

    from assigned

)

select * from final
