with

definitions as (

    select * from {{ ref('stg_reference__segment_definitions') }}

),

bank as (

    select * from {{ ref('int_extract_churn_rates') }}

),

counts as (

    select * from {{ ref('int_segment_counts_tested') }}

),

-- where each scheme's rules were chosen (its unassigned rows follow it): the first segment's record
scheme_origins as (

    select
        scheme,
        min_by(chosen_on, precedence) as chosen_on

    from definitions
    group by scheme

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
        counts.churned - counts.customers * bank.bank_churn_rate as excess_churners,
        counts.p_value_vs_rest,
        counts.p_value_vs_rest_holm,
        counts.is_above_bank_rate,
        counts.confirmation_half_customers,
        counts.confirmation_half_churned,
        counts.confirmation_half_churned / nullif(counts.confirmation_half_customers, 0)
            as confirmation_half_churn_rate,
        counts.p_value_confirmation_half,
        counts.p_value_confirmation_half_holm,
        counts.is_confirmed_on_confirmation_half

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
        measured.p_value_vs_rest,
        measured.p_value_vs_rest_holm,
        measured.is_above_bank_rate,
        -- the confirmation half's figures only where the rule was chosen on the other half of this extract:
        -- elsewhere that half was looked at too (or the whole extract is already a confirmation)
        {%- for column in [
            'confirmation_half_customers',
            'confirmation_half_churned',
            'confirmation_half_churn_rate',
            'p_value_confirmation_half',
            'p_value_confirmation_half_holm',
            'is_confirmed_on_confirmation_half',
        ] %}
            case
                when scheme_origins.chosen_on = measured.extract || ':discovery_half' then measured.{{ column }}
            end as {{ column }},
        {%- endfor %}
        case
            when scheme_origins.chosen_on = measured.extract
                then 'exploratory: rule chosen on this extract'
            when
                scheme_origins.chosen_on = measured.extract || ':discovery_half'
                and measured.is_confirmed_on_confirmation_half
                then 'confirmatory: rule chosen on one half of this extract, confirmed on the other'
            when scheme_origins.chosen_on = measured.extract || ':discovery_half'
                then 'exploratory: rule chosen on one half of this extract, not confirmed on the other'
            when scheme_origins.chosen_on = 'none'
                then 'confirmatory: rule fixed without looking at churn'
            when
                scheme_origins.chosen_on in (
                    {%- for extract in var('extract_formats') -%}
                        {{ sql_string(extract) }}{{ ", " if not loop.last }}
                    {%- endfor -%}
                )
                then 'confirmatory: rule chosen on ' || scheme_origins.chosen_on
            when scheme_origins.chosen_on like '%:discovery_half'
                then 'confirmatory: rule chosen on ' || replace(scheme_origins.chosen_on, ':discovery_half', '')
            else 'exploratory: where the rule was chosen is not recorded'
        end as evidence,
        coalesce(definitions.name_en, 'Unassigned') as segment_name,
        coalesce(definitions.name_ru, 'Вне сегментов') as segment_name_ru,
        coalesce(definitions.description_en, 'Customers no rule of the scheme applies to')
            as segment_description,
        coalesce(definitions.description_ru, 'Клиенты, к которым не подходит ни одно правило схемы')
            as segment_description_ru,
        measured.churn_rate / nullif(measured.bank_churn_rate, 0) as lift,
        -- bigint on every engine (Spark's ranks are int)
        cast(rank() over (
            partition by measured.extract, measured.scheme order by measured.excess_churners desc
        ) as bigint) as priority_rank

    from measured
    left join definitions
        on
            measured.scheme = definitions.scheme
            and measured.segment_id = definitions.segment_id
    left join scheme_origins
        on measured.scheme = scheme_origins.scheme

)

select * from final
