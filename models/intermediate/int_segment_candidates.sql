{%- set features = discovery_features() -%}
{%- set min_customers = var('discovery_min_customers', 300) -%}

with

cells as (

    -- the customers already counted by cell (a table: the grouping sets below each
    -- read it, and DuckDB streams a CTE to each of its 200-odd readers slowly)
    select * from {{ ref('int_segment_cells') }}

),

bank as (

    select
        extract,
        sum(customers)::bigint as bank_customers,
        sum(churned)::bigint as bank_churned,
        coalesce(sum(customers) filter (where not is_confirmation_half), 0)::bigint as bank_customers_discovery,
        coalesce(sum(churned) filter (where not is_confirmation_half), 0)::bigint as bank_churned_discovery

    from cells
    group by extract

),

grouped as (

    select
        extract,
        concat_ws(
            ' + ',
            {%- for feature in features %}
                case when grouping({{ feature }}) = 0 then '{{ feature }}' end{{ ',' if not loop.last }}
            {%- endfor %}
        ) as feature_set,
        concat_ws(
            ' and ',
            {%- for feature in features %}
                case
                    when grouping({{ feature }}) = 0
                        then '{{ feature }} = ''' || cast({{ feature }} as string) || ''''
                end{{ ',' if not loop.last }}
            {%- endfor %}
        ) as segment_rule,
        {%- for feature in features %}
            {{ '' if loop.first else '+ ' }}(1 - grouping({{ feature }}))
        {%- endfor %} as feature_count,
        sum(customers)::bigint as customers,
        sum(churned)::bigint as churned,
        coalesce(sum(customers) filter (where not is_confirmation_half), 0)::bigint as customers_discovery,
        coalesce(sum(churned) filter (where not is_confirmation_half), 0)::bigint as churned_discovery

    from cells
    group by grouping sets (
        {%- for combination in combinations_up_to(features, 3) %}
            (extract, {{ combination | join(', ') }}){{ ',' if not loop.last }}
        {%- endfor %}
    )
    having sum(customers) >= {{ min_customers }}

),

final as (

    select
        grouped.extract,
        grouped.feature_set,
        grouped.segment_rule,
        grouped.feature_count,
        grouped.customers,
        grouped.churned,
        grouped.customers_discovery,
        grouped.churned_discovery,
        bank.bank_customers,
        bank.bank_churned,
        bank.bank_customers_discovery,
        bank.bank_churned_discovery

    from grouped
    inner join bank
        on grouped.extract = bank.extract

)

select * from final
