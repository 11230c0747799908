-- depends_on: {{ ref('stg_reference__segment_definitions') }}
{%- set schemes = segment_schemes(segment_definitions_rows()) %}

with

customers as (

    select * from {{ ref('customers') }}

),

pairs as (

    {%- for scheme in schemes if not scheme.is_exclusive %}
        {%- for a in scheme.segments %}
            {%- for b in scheme.segments if a.segment_id < b.segment_id %}

                select
                    extract,
                    '{{ scheme.scheme }}' as scheme,
                    '{{ a.segment_id }}' as segment_a,
                    '{{ b.segment_id }}' as segment_b,
                    count(*) filter (where {{ segment_rule(a) }}) as customers_a,
                    count(*) filter (where {{ segment_rule(b) }}) as customers_b,
                    count(*) filter (where {{ segment_rule(a) }} and {{ segment_rule(b) }}) as customers_in_both

                from customers
                where {{ segment_scheme_extracts(scheme) }}
                group by extract
                union all
            {%- endfor %}
        {%- endfor %}
    {%- endfor %}

    -- keeps the relation well-formed while dbt parses (no definitions read yet)
    {{ no_rows({
        'extract': 'string',
        'scheme': 'string',
        'segment_a': 'string',
        'segment_b': 'string',
        'customers_a': 'bigint',
        'customers_b': 'bigint',
        'customers_in_both': 'bigint',
    }, 'customers') }}

),

final as (

    select
        extract,
        scheme,
        segment_a,
        segment_b,
        customers_a,
        customers_b,
        customers_in_both,
        customers_in_both / nullif(least(customers_a, customers_b), 0) as overlap_of_smaller

    from pairs

)

select * from final
