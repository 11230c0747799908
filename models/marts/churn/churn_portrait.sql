{%- set numeric = analysis_features()['numeric'] -%}
{#- every median comes from value counts (a grouping aggregate and a sort, which can spill to disk), not
    from holding every value: median() cannot spill. At 10 million customers six of them beside another model
    outgrew DuckDB's memory limit; later the two money columns' alone did so beside segment_discovery. -#}
{%- set counted = numeric -%}
{%- set aggregated = [] -%}
{%- for column in numeric -%}
    {%- do aggregated.append((column, 'mean')) -%}
{%- endfor -%}
{%- set statistic_function = {'mean': 'avg'} -%}

with

customers as (

    select * from {{ ref('customers') }}

),

-- means of every numeric column: one aggregate each
aggregated as (

    {%- for column, statistic in aggregated %}

        select
            extract,
            '{{ column }}' as feature,
            '{{ statistic }}' as statistic,
            {{ statistic_function[statistic] }}({{ column }}) filter (where is_churned)::double as churned_value,
            {{ statistic_function[statistic] }}({{ column }}) filter (where not is_churned)::double as retained_value,
            {{ statistic_function[statistic] }}({{ column }})::double as all_value

        from customers
        group by extract
        {{ 'union all' if not loop.last }}
    {%- endfor %}

),

value_counts as (

    {%- for column in counted %}

        select
            extract,
            '{{ column }}' as feature,
            {{ column }}::double as feature_value,
            count(*) filter (where is_churned) as churned,
            count(*) filter (where not is_churned) as retained,
            count(*) as everyone

        from customers
        where {{ column }} is not null
        group by extract, {{ column }}
        union all
    {%- endfor %}

    {{ no_rows({
        'extract': 'string',
        'feature': 'string',
        'feature_value': 'double',
        'churned': 'bigint',
        'retained': 'bigint',
        'everyone': 'bigint',
    }, 'customers') }}

),

-- each value's position: how many customers hold it or a smaller one, and how many there are
positions as (

    select
        {%- for group in ['churned', 'retained', 'everyone'] %}
            sum({{ group }}) over running as up_to_{{ group }},
            (sum({{ group }}) over whole - 1) / 2 as middle_{{ group }},
        {%- endfor %}
        extract,
        feature,
        feature_value

    from value_counts
    window
        running as (partition by extract, feature order by feature_value rows unbounded preceding),
        whole as (partition by extract, feature)

),

-- the median as median() computes it: the value at 0-based position (n - 1) / 2, interpolated between
-- the values at its floor and ceiling when n is even
counted_medians as (

    select
        {%- for group in ['churned', 'retained', 'everyone'] %}
            {{ value_at_middle('feature_value', 'up_to_' ~ group, 'middle_' ~ group) }}
                as {{ 'all' if group == 'everyone' else group }}_value,
        {%- endfor %}
        extract,
        feature,
        'median' as statistic

    from positions
    group by extract, feature

),

numeric_stats as (

    select
        extract,
        feature,
        'numeric' as feature_type,
        statistic,
        statistic as feature_value,
        case when statistic = 'mean' then 1 else 2 end as value_order,
        churned_value,
        retained_value,
        all_value

    from (
        select
            extract,
            feature,
            statistic,
            churned_value,
            retained_value,
            all_value
        from aggregated
        union all
        select
            extract,
            feature,
            statistic,
            churned_value,
            retained_value,
            all_value
        from counted_medians
    ) as numeric_statistics

),

categorical_counts as (

    select
        extract,
        feature,
        feature_value,
        value_order,
        churned as churned_customers,
        customers as all_customers,
        customers - churned as retained_customers

    from {{ ref('int_churn_by_value') }}

),

categorical_shares as (

    select
        extract,
        feature,
        'categorical' as feature_type,
        'share' as statistic,
        feature_value,
        value_order,
        churned_customers / nullif(sum(churned_customers) over (partition by extract, feature), 0)
            as churned_value,
        retained_customers / nullif(sum(retained_customers) over (partition by extract, feature), 0)
            as retained_value,
        all_customers / sum(all_customers) over (partition by extract, feature) as all_value

    from categorical_counts

),

unioned as (

    select * from numeric_stats
    union all
    select * from categorical_shares

),

final as (

    select
        extract,
        feature,
        feature_type,
        statistic,
        feature_value,
        value_order,
        churned_value,
        retained_value,
        all_value,
        (churned_value - retained_value) / nullif(abs(retained_value), 0) as relative_difference

    from unioned

)

select * from final
