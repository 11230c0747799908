{%- set numeric = analysis_features()['numeric'] -%}

with

customers as (

    select * from {{ ref('customers') }}

),

numeric_stats as (

    {%- set pairs = [] %}
    {%- for column in numeric %}
        {%- do pairs.append((column, 'mean')) %}
        {%- do pairs.append((column, 'median')) %}
    {%- endfor %}
    {%- for column, statistic in pairs %}

        select
            extract,
            '{{ column }}' as feature,
            'numeric' as feature_type,
            '{{ statistic }}' as statistic,
            '{{ statistic }}' as feature_value,
            {{ 1 if statistic == 'mean' else 2 }} as value_order,
            {{ 'avg' if statistic == 'mean' else 'median' }}({{ column }}) filter (where is_churned)::double
                as churned_value,
            {{ 'avg' if statistic == 'mean' else 'median' }}({{ column }}) filter (where not is_churned)::double
                as retained_value,
            {{ 'avg' if statistic == 'mean' else 'median' }}({{ column }})::double as all_value

        from customers
        group by extract
        {{ 'union all' if not loop.last }}
    {%- endfor %}

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
