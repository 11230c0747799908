-- depends_on: {{ ref('stg_reference__segment_definitions') }}
{%- set schemes = segment_schemes(segment_definitions_rows()) %}
{#- the dashboard's dimensions: what its sheets and filters group and filter by -#}
{%- set dimensions = [
    'extract', 'city', 'gender', 'product_count',
    'age_band', 'age_band_order', 'credit_score_band', 'credit_score_band_order',
    'balance_band', 'balance_band_order', 'estimated_salary_band', 'estimated_salary_band_order',
    'property_score', 'has_balance', 'has_credit_card', 'is_active', 'cluster_id', 'is_churned',
] %}
{#- band labels are named from their band numbers after counting: the grouping keys stay narrow -#}
{%- set labelled = {
    'age_band': 'age', 'credit_score_band': 'credit_score',
    'balance_band': 'balance', 'estimated_salary_band': 'estimated_salary',
} %}
{%- set grouped = dimensions | reject('in', labelled) | list %}
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
{%- if memberships | length > 62 %}
    {{ exceptions.raise_compiler_error(
        'dashboard_customers: ' ~ memberships | length ~ ' memberships do not fit in one 64-bit membership_mask (at most 62)'
    ) }}
{%- endif %}

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

-- each customer's memberships as one number: bit i set when it counts in
-- membership i (see `memberships` above)
customer_masks as (

    select
        {%- for dimension in grouped %}
            {{ dimension }},
        {%- endfor %}
        {%- for feature in totals + ['balance'] if feature not in dimensions %}
            {{ feature }},
        {%- endfor %}
        {%- set bits = [] %}
        {%- for scheme_name, segment_id, condition in memberships %}
            {%- do bits.append('case when ' ~ condition ~ ' then ' ~ (2 ** loop.index0) ~ ' else 0 end') %}
        {%- endfor %}
        {{ bits | join(' + ') }} as membership_mask

    from customers_clustered

),

-- the customers counted by cell and by the set of memberships they share: one
-- aggregate over the customers, grouped by narrow columns (band numbers, not
-- labels), so it stays small where a row per membership would spill
mask_cells as (

    select
        membership_mask,
        {%- for dimension in grouped %}
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

    from customer_masks
    group by all

),

-- each of those counts once per membership its customers have
mask_memberships as (

    select
        mask_cells.*,
        {%- set codes = [] %}
        {%- for scheme_name, segment_id, condition in memberships %}
            {%- do codes.append(
                'case when (membership_mask & ' ~ (2 ** loop.index0) ~ ') <> 0 then ' ~ loop.index0 ~ ' end'
            ) %}
        {%- endfor %}
        {{ unnest_items(codes) }} as membership_code

    from mask_cells

),

-- the customers of each cell, counted once per membership
cells as (

    select
        membership_code,
        {%- for dimension in grouped %}
            {{ dimension }},
        {%- endfor %}
        cast(sum(customers) as bigint) as customers,
        cast(sum(churned) as bigint) as churned,
        {%- for feature in totals %}
            {%- if feature == 'estimated_salary' %}
                sum({{ feature }}_total) as {{ feature }}_total,
            {%- else %}
                cast(sum({{ feature }}_total) as bigint) as {{ feature }}_total,
            {%- endif %}
        {%- endfor %}
        sum(balance_total) as balance_total,
        cast(sum(balance_customers) as bigint) as balance_customers

    from mask_memberships
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
            {%- if dimension in labelled %}
                {{ band_label_of_order(labelled[dimension], 'cells.' ~ dimension ~ '_order') }} as {{ dimension }},
            {%- else %}
                cells.{{ dimension }},
            {%- endif %}
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
