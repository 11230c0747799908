-- depends_on: {{ ref('stg_reference__segment_definitions') }}
{%- set schemes = segment_schemes(segment_definitions_rows()) %}

with

customers as (

    select * from {{ ref('int_customers_banded') }}

),

counts as (

    {%- for scheme in schemes %}
        {%- for index in range(scheme.segments | length + 1) %}
            {%- set segment = scheme.segments[index] if index < scheme.segments | length else none %}

            select
                extract,
                '{{ scheme.scheme }}' as scheme,
                {{ scheme.is_exclusive }} as scheme_is_exclusive,
                '{{ segment.segment_id if segment else "unassigned" }}' as segment_id,
                {{ sql_string(segment_rule(segment) if segment else "no rule of the scheme holds") }}
                    as rule_sql,
                count(*) as customers,
                count(*) filter (where is_churned) as churned,
                count(*) filter (where {{ is_confirmation_half() }}) as confirmation_half_customers,
                count(*) filter (where {{ is_confirmation_half() }} and is_churned) as confirmation_half_churned,
                {%- if segment and not scheme.is_exclusive and scheme.segments | length > 1 %}
                    count(*) filter (
                        where
                        {%- for other in scheme.segments if other.segment_id != segment.segment_id %}
                            {{ 'or' if not loop.first }} coalesce({{ segment_rule(other) }}, false)
                        {%- endfor %}
                    ) as overlapping_customers
                {%- else %}
                    0 as overlapping_customers
                {%- endif %}

            from customers
            where {{ segment_scheme_extracts(scheme) }} and {{ segment_membership(scheme, index) }}
            group by extract
            union all
        {%- endfor %}
    {%- endfor %}

    -- keeps the relation well-formed while dbt parses (no definitions read yet)
    {{ no_rows({
        'extract': 'string',
        'scheme': 'string',
        'scheme_is_exclusive': 'boolean',
        'segment_id': 'string',
        'rule_sql': 'string',
        'customers': 'bigint',
        'churned': 'bigint',
        'confirmation_half_customers': 'bigint',
        'confirmation_half_churned': 'bigint',
        'overlapping_customers': 'bigint',
    }, 'customers') }}

)

select * from counts
