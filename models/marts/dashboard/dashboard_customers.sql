-- depends_on: {{ ref('stg_reference__segment_definitions') }}
{%- set schemes = segment_schemes(segment_definitions_rows()) %}
{#- the dashboard's dimensions: what its sheets and filters group and filter by -#}
{%- set dimensions = [
    'extract', 'city', 'gender', 'product_count',
    'age_band', 'age_band_order', 'credit_score_band', 'credit_score_band_order',
    'balance_band', 'balance_band_order', 'estimated_salary_band', 'estimated_salary_band_order',
    'property_score', 'has_balance', 'has_credit_card', 'is_active', 'cluster_id', 'is_churned',
] %}
{#- each portrait feature's total, so a mean is sum(<feature>_total) / sum(customers) -#}
{%- set totals = ['age', 'credit_score', 'property_score', 'product_count', 'estimated_salary'] %}
{#-
    (scheme, segment, condition) of each group of rows counted: every
    customer once as all customers, then once in each segment it counts in
    (its one segment in an exclusive scheme, every segment whose rule holds
    in an overlapping one, `unassigned` when none does)
-#}
{%- set memberships = [('all_customers', 'all_customers', 'true')] %}
{%- for scheme in schemes %}
    {%- for index in range(scheme.segments | length + 1) %}
        {%- set segment_id = scheme.segments[index].segment_id if index < scheme.segments | length else 'unassigned' %}
        {%- do memberships.append((
            scheme.scheme, segment_id, segment_scheme_extracts(scheme) ~ ' and ' ~ segment_membership(scheme, index)
        )) %}
    {%- endfor %}
{%- endfor %}

with

customers as (

    select * from {{ ref('customers') }}

),

clusters as (

    select * from {{ ref('customer_clusters') }}

),

definitions as (

    select * from {{ ref('stg_reference__segment_definitions') }}

),

-- every customer with its cluster, read once by every scheme below
customers_clustered as materialized (

    select
        customers.*,
        clusters.cluster_id

    from customers
    left join clusters
        on
            customers.extract = clusters.extract
            and customers.customer_key = clusters.customer_key

),

-- the customers of each cell, counted once per membership (see `memberships`)
cells as (

    {%- for scheme_name, segment_id, condition in memberships %}

        select
            '{{ scheme_name }}' as scheme,
            '{{ segment_id }}' as segment_id,
            {%- for dimension in dimensions %}
                {{ dimension }},
            {%- endfor %}
            count(*) as customers,
            cast(sum(cast(is_churned as integer)) as bigint) as churned,
            {%- for feature in totals %}
                {%- if feature == 'estimated_salary' %}
                    sum({{ feature }}) as {{ feature }}_total,
                {%- else %}
                    cast(sum({{ feature }}) as bigint) as {{ feature }}_total,
                {%- endif %}
            {%- endfor %}
            sum(balance) as balance_total,
            count(balance) as balance_customers

        from customers_clustered
        where {{ condition }}
        group by all
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        cells.extract,
        cells.scheme,
        cells.segment_id,
        coalesce(
            definitions.name_en,
            case when cells.scheme = 'all_customers' then 'All customers' else 'Unassigned' end
        ) as segment_name,
        coalesce(
            definitions.name_ru,
            case when cells.scheme = 'all_customers' then 'Все клиенты' else 'Вне сегментов' end
        ) as segment_name_ru,
        definitions.offer_en,
        definitions.offer_ru,
        {%- for dimension in dimensions if dimension != 'extract' %}
            cells.{{ dimension }},
        {%- endfor %}
        cells.customers,
        cells.churned,
        {%- for feature in totals %}
            cells.{{ feature }}_total,
        {%- endfor %}
        cells.balance_total,
        cells.balance_customers

    from cells
    left join definitions
        on
            cells.scheme = definitions.scheme
            and cells.segment_id = definitions.segment_id

)

select * from final
