{%- set features = discovery_features() -%}
{%- set min_customers = var('discovery_min_customers', 300) -%}

with

customers as (

    select
        extract,
        is_churned,
        {%- for feature in features %}
            cast({{ feature }} as varchar) as {{ feature }}{{ ',' if not loop.last }}
        {%- endfor %}

    from {{ ref('customers') }}

),

bank as (

    select
        extract,
        count(*) as bank_customers,
        count(*) filter (where is_churned) as bank_churned

    from customers
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
                        then '{{ feature }} = ''' || {{ feature }} || ''''
                end{{ ',' if not loop.last }}
            {%- endfor %}
        ) as segment_rule,
        {%- for feature in features %}
            {{ '' if loop.first else '+ ' }}(1 - grouping({{ feature }}))
        {%- endfor %} as feature_count,
        count(*) as customers,
        count(*) filter (where is_churned) as churned

    from customers
    group by grouping sets (
        {%- for combination in combinations_up_to(features, 3) %}
            (extract, {{ combination | join(', ') }}){{ ',' if not loop.last }}
        {%- endfor %}
    )
    having count(*) >= {{ min_customers }}

),

final as (

    select
        grouped.extract,
        grouped.feature_set,
        grouped.segment_rule,
        grouped.feature_count,
        grouped.customers,
        grouped.churned,
        bank.bank_customers,
        bank.bank_churned

    from grouped
    inner join bank
        on grouped.extract = bank.extract

)

select * from final
