-- depends_on: {{ ref('stg_reference__segment_definitions') }}
{%- set schemes = segment_schemes(segment_definitions_rows()) %}

with

customers as (

    select * from {{ ref('customers') }}

),

definitions as (

    select * from {{ ref('stg_reference__segment_definitions') }}

),

bank as (

    select * from {{ ref('int_extract_churn_rates') }}

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
        'extract': 'varchar',
        'scheme': 'varchar',
        'scheme_is_exclusive': 'boolean',
        'segment_id': 'varchar',
        'rule_sql': 'varchar',
        'customers': 'bigint',
        'churned': 'bigint',
        'overlapping_customers': 'bigint',
    }, 'customers') }}

),

measured as (

    select
        counts.extract,
        counts.scheme,
        counts.scheme_is_exclusive,
        counts.segment_id,
        counts.rule_sql,
        counts.customers,
        counts.churned,
        counts.overlapping_customers,
        bank.bank_churn_rate,
        counts.customers / bank.bank_customers as share_of_base,
        counts.churned / counts.customers as churn_rate,
        {{ wilson_bound('counts.churned', 'counts.customers', 'lower') }} as churn_rate_ci_low,
        {{ wilson_bound('counts.churned', 'counts.customers', 'upper') }} as churn_rate_ci_high,
        counts.churned - counts.customers * bank.bank_churn_rate as excess_churners

    from counts
    inner join bank
        on counts.extract = bank.extract

),

final as (

    select
        measured.extract,
        measured.scheme,
        measured.scheme_is_exclusive,
        measured.segment_id,
        definitions.precedence,
        measured.rule_sql,
        measured.customers,
        measured.share_of_base,
        measured.churned,
        measured.churn_rate,
        measured.churn_rate_ci_low,
        measured.churn_rate_ci_high,
        measured.bank_churn_rate,
        measured.excess_churners,
        measured.overlapping_customers,
        definitions.offer_en,
        definitions.offer_ru,
        coalesce(definitions.name_en, 'Unassigned') as segment_name,
        coalesce(definitions.name_ru, 'Вне сегментов') as segment_name_ru,
        coalesce(definitions.description_en, 'Customers no rule of the scheme applies to')
            as segment_description,
        coalesce(definitions.description_ru, 'Клиенты, к которым не подходит ни одно правило схемы')
            as segment_description_ru,
        measured.churn_rate / nullif(measured.bank_churn_rate, 0) as lift,
        measured.churn_rate_ci_low > measured.bank_churn_rate as is_above_bank_rate,
        rank() over (
            partition by measured.extract, measured.scheme order by measured.excess_churners desc
        ) as priority_rank

    from measured
    left join definitions
        on
            measured.scheme = definitions.scheme
            and measured.segment_id = definitions.segment_id

)

select * from final
