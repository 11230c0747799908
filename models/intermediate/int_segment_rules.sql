-- depends_on: {{ ref('stg_reference__segment_definitions') }}
{%- set schemes = segment_schemes(segment_definitions_rows()) %}

with

rules as (

    {%- for scheme in schemes %}
        {%- for segment in scheme.segments %}

            select
                '{{ scheme.scheme }}' as scheme,
                {{ scheme.is_exclusive }} as scheme_is_exclusive,
                '{{ segment.segment_id }}' as segment_id,
                cast({{ segment.precedence }} as integer) as precedence,
                {{ sql_string(segment_rule(segment)) }} as rule_sql
            union all
        {%- endfor %}
    {%- endfor %}

    -- keeps the relation well-formed while dbt parses (no definitions read yet)
    {{ no_rows({
        'scheme': 'string',
        'scheme_is_exclusive': 'boolean',
        'segment_id': 'string',
        'precedence': 'integer',
        'rule_sql': 'string',
    }, none) }}

),

final as (

    select * from rules

)

select * from final
