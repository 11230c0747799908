{%- set numeric = analysis_features()['numeric'] -%}
{#- every median comes from counts (grouping aggregates, which can spill to disk), not from holding every
    value: median() cannot spill. At 10 million customers six of them beside another model outgrew DuckDB's
    memory limit; later the two money columns' value counts and their sort took most of this model's time,
    hence the buckets below. -#}
{%- set counted = numeric -%}
{%- set aggregated = [] -%}
{%- for column in numeric -%}
    {%- do aggregated.append((column, 'mean')) -%}
{%- endfor -%}
{%- set statistic_function = {'mean': 'avg'} -%}
{#- the three groups every statistic is given for, and which customers each holds -#}
{%- set groups = ['churned', 'retained', 'everyone'] -%}
{%- set group_condition = {'churned': 'is_churned and', 'retained': 'not is_churned and', 'everyone': ''} -%}

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

-- Every median comes in two passes over the customers, not from a sort of every value (at 10 million
-- customers the money columns hold nearly as many distinct values). First each value's bucket,
-- floor(value / width), is counted per group: a bucket is a range of values, so a value in a lower bucket
-- is smaller (division by a positive number and floor keep the order). The width is 1/1024 of the mean
-- absolute value of the feature in the extract: whole numbers keep one value per bucket, money a few
-- thousand buckets.
widths as (

    {%- for column in counted %}

        select
            extract,
            '{{ column }}' as feature,
            coalesce(nullif(avg(abs({{ column }}::double)), 0), 1) / 1024 as bucket_width

        from customers
        group by extract
        union all
    {%- endfor %}

    {{ no_rows({'extract': 'string', 'feature': 'string', 'bucket_width': 'double'}, 'customers') }}

),

bucket_counts as (

    {%- for column in counted %}

        select
            customers.extract,
            '{{ column }}' as feature,
            floor(customers.{{ column }}::double / widths.bucket_width) as bucket,
            any_value(widths.bucket_width) as bucket_width,
            min(customers.{{ column }}::double) as lowest_value,
            max(customers.{{ column }}::double) as highest_value,
            count(*) filter (where customers.is_churned) as churned,
            count(*) filter (where not customers.is_churned) as retained,
            count(*) as everyone

        from customers
        inner join widths
            on customers.extract = widths.extract and widths.feature = '{{ column }}'
        where customers.{{ column }} is not null
        group by customers.extract, floor(customers.{{ column }}::double / widths.bucket_width)
        union all
    {%- endfor %}

    {{ no_rows({
        'extract': 'string',
        'feature': 'string',
        'bucket': 'double',
        'bucket_width': 'double',
        'lowest_value': 'double',
        'highest_value': 'double',
        'churned': 'bigint',
        'retained': 'bigint',
        'everyone': 'bigint',
    }, 'customers') }}

),

-- each bucket's position: how many customers of the group hold a value in it or a lower one, and the
-- group's middle position (n - 1) / 2
bucket_positions as (

    select
        {%- for group in groups %}
            sum({{ group }}) over running as up_to_{{ group }},
            (sum({{ group }}) over whole - 1) / 2 as middle_{{ group }},
        {%- endfor %}
        extract,
        feature,
        bucket,
        bucket_width

    from bucket_counts
    window
        running as (partition by extract, feature order by bucket rows unbounded preceding),
        whole as (partition by extract, feature)

),

-- per group, the buckets holding the values at the floor and the ceiling of its middle position, and how
-- many of its customers hold a value in a lower bucket
middle_buckets as (

    select
        {%- for group in groups %}
            min(bucket) filter (where up_to_{{ group }} > floor(middle_{{ group }})) as {{ group }}_first_bucket,
            min(bucket) filter (where up_to_{{ group }} > ceil(middle_{{ group }})) as {{ group }}_last_bucket,
            coalesce(max(up_to_{{ group }}) filter (where up_to_{{ group }} <= floor(middle_{{ group }})), 0)
                as {{ group }}_below,
            any_value(middle_{{ group }}) as {{ group }}_middle,
        {%- endfor %}
        extract,
        feature,
        any_value(bucket_width) as bucket_width

    from bucket_positions
    group by extract, feature

),

-- every bucket counted per group in that group's own middle buckets (0 outside them), with the range of
-- the bucket's values
bucket_counts_in_middles as (

    select
        {%- for group in groups %}
            case
                when
                    bucket_counts.bucket
                    between middle_buckets.{{ group }}_first_bucket and middle_buckets.{{ group }}_last_bucket
                    then bucket_counts.{{ group }}
                else 0
            end as {{ group }},
            middle_buckets.{{ group }}_below,
            middle_buckets.{{ group }}_middle,
        {%- endfor %}
        bucket_counts.extract,
        bucket_counts.feature,
        bucket_counts.lowest_value,
        bucket_counts.highest_value

    from bucket_counts
    inner join middle_buckets
        on
            bucket_counts.extract = middle_buckets.extract
            and bucket_counts.feature = middle_buckets.feature

),

-- the buckets of any group's middle buckets
middle_bucket_counts as (

    select *

    from bucket_counts_in_middles
    where
        {%- for group in groups %}
            {{ 'or ' if not loop.first }}{{ group }} > 0
        {%- endfor %}

),

-- the extracts' features whose middle buckets each hold one value (a whole number's buckets, of width below
-- 1, always do): a bucket's count is then its value's, and they skip the second pass, which reads every
-- customer again (at 10 million customers, about 4 of the model's 8 CPU seconds for the four whole-number
-- features; a product count's middle bucket alone holds about half of the customers).
single_valued as (

    select
        extract,
        feature

    from middle_bucket_counts
    group by extract, feature
    having min(case when lowest_value = highest_value then 1 else 0 end) = 1

),

multi_valued_middle_buckets as (

    select middle_buckets.*

    from middle_buckets
    left join single_valued
        on
            middle_buckets.extract = single_valued.extract
            and middle_buckets.feature = single_valued.feature
    where single_valued.extract is null

),

-- second pass, for the other features: every customer's value in its bucket, beside its extract's and
-- feature's middle buckets (read once: only the values of middle buckets are kept below)
bucketed_values as (

    {%- for column in counted %}

        select
            middle_buckets.*,
            customers.is_churned,
            customers.{{ column }}::double as feature_value,
            floor(customers.{{ column }}::double / middle_buckets.bucket_width) as bucket

        from customers
        inner join multi_valued_middle_buckets as middle_buckets
            on customers.extract = middle_buckets.extract and middle_buckets.feature = '{{ column }}'
        where customers.{{ column }} is not null
        {{ 'union all' if not loop.last }}
    {%- endfor %}

),

middle_values as (

    select
        {%- for group in groups %}
            {{ group_condition[group] }} bucket between {{ group }}_first_bucket and {{ group }}_last_bucket
                as in_{{ group }}_middle,
            {{ group }}_below,
            {{ group }}_middle,
        {%- endfor %}
        extract,
        feature,
        feature_value

    from bucketed_values

),

-- the values of any group's middle buckets, one row per value, counted per group in its own middle buckets:
-- from the second pass, or from the buckets of one value each
middle_value_counts as (

    select
        {%- for group in groups %}
            count(*) filter (where in_{{ group }}_middle) as {{ group }},
            any_value({{ group }}_below) as {{ group }}_below,
            any_value({{ group }}_middle) as {{ group }}_middle,
        {%- endfor %}
        extract,
        feature,
        feature_value

    from middle_values
    where in_churned_middle or in_retained_middle or in_everyone_middle
    group by extract, feature, feature_value

    union all

    select
        {%- for group in groups %}
            middle_bucket_counts.{{ group }},
            middle_bucket_counts.{{ group }}_below,
            middle_bucket_counts.{{ group }}_middle,
        {%- endfor %}
        middle_bucket_counts.extract,
        middle_bucket_counts.feature,
        middle_bucket_counts.lowest_value as feature_value

    from middle_bucket_counts
    inner join single_valued
        on
            middle_bucket_counts.extract = single_valued.extract
            and middle_bucket_counts.feature = single_valued.feature

),

-- each of those values' position in each group: the group's customers below its middle buckets plus a
-- running count (a value below a group's middle buckets counts none of it, one above all of them)
middle_positions as (

    select
        {%- for group in groups %}
            {{ group }}_below + sum({{ group }}) over running as up_to_{{ group }},
            {{ group }}_middle,
        {%- endfor %}
        extract,
        feature,
        feature_value

    from middle_value_counts
    window running as (partition by extract, feature order by feature_value rows unbounded preceding)

),

-- the median as median() computes it: the value at 0-based position (n - 1) / 2, interpolated between
-- the values at its floor and ceiling when n is even
counted_medians as (

    select
        {%- for group in groups %}
            {{ value_at_middle('feature_value', 'up_to_' ~ group, group ~ '_middle') }}
                as {{ 'all' if group == 'everyone' else group }}_value,
        {%- endfor %}
        extract,
        feature,
        'median' as statistic

    from middle_positions
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
