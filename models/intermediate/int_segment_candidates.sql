{#- A table, not a view: a view keeps its text in Spark's metastore, whose column holds
    32,672 characters, and the twenty blocks below compile to about 70,000 (a view failed there).
    Its 20,000-odd rows cost nothing to write on DuckDB. -#}
{{ config(materialized='table') }}

{%- set features = discovery_features() -%}
{%- set min_customers = var('discovery_min_customers', 300) -%}
{#-
    Each combination of one to three features is one grouping set, added up in a
    block of the few features it belongs to (macro combinations_in_blocks): the
    cells are first added up to the block's features, so each grouping set reads
    that block's rows rather than every cell.
-#}
{%- set blocks = combinations_in_blocks(features, 3) -%}

with

cells as (

    -- the customers already counted by cell (a table: every block below reads it)
    select * from {{ ref('int_segment_cells') }}

),

bank as (

    select
        extract,
        sum(customers)::bigint as bank_customers,
        sum(churned)::bigint as bank_churned,
        sum(customers_discovery)::bigint as bank_customers_discovery,
        sum(churned_discovery)::bigint as bank_churned_discovery

    from cells
    group by extract

),

{%- for block in blocks %}

-- the cells added up to {{ block.features | join(', ') }}
block_{{ loop.index }} as (

    select
        extract,
        {%- for feature in block.features %}
            {{ feature }},
        {%- endfor %}
        sum(customers)::bigint as customers,
        sum(churned)::bigint as churned,
        sum(customers_discovery)::bigint as customers_discovery,
        sum(churned_discovery)::bigint as churned_discovery

    from cells
    group by
        extract,
        {%- for feature in block.features %}
            {{ feature }}{{ ',' if not loop.last }}
        {%- endfor %}

),

grouped_{{ loop.index }} as (

    select
        extract,
        concat_ws(
            ' + ',
            {%- for feature in block.features %}
                case when grouping({{ feature }}) = 0 then '{{ feature }}' end{{ ',' if not loop.last }}
            {%- endfor %}
        ) as feature_set,
        concat_ws(
            ' and ',
            {%- for feature in block.features %}
                case
                    when grouping({{ feature }}) = 0
                        then '{{ feature }} = ''' || cast({{ feature }} as string) || ''''
                end{{ ',' if not loop.last }}
            {%- endfor %}
        ) as segment_rule,
        {%- for feature in block.features %}
            {{ '' if loop.first else '+ ' }}(1 - grouping({{ feature }}))
        {%- endfor %} as feature_count,
        sum(customers)::bigint as customers,
        sum(churned)::bigint as churned,
        sum(customers_discovery)::bigint as customers_discovery,
        sum(churned_discovery)::bigint as churned_discovery

    from block_{{ loop.index }}
    group by grouping sets (
        {%- for combination in block.combinations %}
            (extract, {{ combination | join(', ') }}){{ ',' if not loop.last }}
        {%- endfor %}
    )
    having sum(customers) >= {{ min_customers }}

),

{%- endfor %}

grouped as (

    {%- for block in blocks %}
        select * from grouped_{{ loop.index }}
        {{ 'union all' if not loop.last }}
    {%- endfor %}

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
