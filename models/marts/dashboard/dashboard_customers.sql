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

-- every customer with its cluster
customers_clustered as (

    select
        customers.*,
        clusters.cluster_id

    from customers
    left join clusters
        on
            customers.extract = clusters.extract
            and customers.customer_key = clusters.customer_key

),

-- each customer with the code of each membership it has (one list per
-- customer, most entries null), one row per entry after the unnest: the
-- customers are read once, with no join per scheme
memberships as (

    select
        {%- for dimension in dimensions %}
            {{ dimension }},
        {%- endfor %}
        {%- for feature in totals + ['balance'] if feature not in dimensions %}
            {{ feature }},
        {%- endfor %}
        {%- set codes = [] %}
        {%- for scheme_name, segment_id, condition in memberships %}
            {%- do codes.append('case when ' ~ condition ~ ' then ' ~ loop.index0 ~ ' end') %}
        {%- endfor %}
        {{ unnest_items(codes) }} as membership_code

    from customers_clustered

),

-- the customers of each cell, counted once per membership (see `memberships`)
cells as (

    select
        membership_code,
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

    from memberships
    where membership_code is not null
    group by all

),

-- each membership code's scheme and segment
membership_codes as (

    select
        codes.membership_code,
        codes.scheme,
        codes.segment_id

    from (
        values
        {%- for scheme_name, segment_id, condition in memberships %}
            ({{ loop.index0 }}, '{{ scheme_name }}', '{{ segment_id }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as codes (membership_code, scheme, segment_id)

),

final as (

    select
        cells.extract,
        membership_codes.scheme,
        membership_codes.segment_id,
        coalesce(
            definitions.name_en,
            case when membership_codes.scheme = 'all_customers' then 'All customers' else 'Unassigned' end
        ) as segment_name,
        coalesce(
            definitions.name_ru,
            case when membership_codes.scheme = 'all_customers' then 'Все клиенты' else 'Вне сегментов' end
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
    inner join membership_codes
        on cells.membership_code = membership_codes.membership_code
    left join definitions
        on
            membership_codes.scheme = definitions.scheme
            and membership_codes.segment_id = definitions.segment_id

)

select * from final
