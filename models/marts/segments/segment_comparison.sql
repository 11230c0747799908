with

summary as (

    select * from {{ ref('segment_summary') }}

),

final as (

    select
        scheme,
        segment_id,
        any_value(segment_name) as segment_name,
        any_value(segment_name_ru) as segment_name_ru,
        max(customers) filter (where extract = 'bank_scrooge') as customers_bank_scrooge,
        sum(share_of_base) filter (where extract = 'bank_scrooge') as share_of_base_bank_scrooge,
        sum(churn_rate) filter (where extract = 'bank_scrooge') as churn_rate_bank_scrooge,
        sum(lift) filter (where extract = 'bank_scrooge') as lift_bank_scrooge,
        max(customers) filter (where extract = 'bank_dataset') as customers_bank_dataset,
        sum(share_of_base) filter (where extract = 'bank_dataset') as share_of_base_bank_dataset,
        sum(churn_rate) filter (where extract = 'bank_dataset') as churn_rate_bank_dataset,
        sum(lift) filter (where extract = 'bank_dataset') as lift_bank_dataset,
        count(distinct extract) = 2 as applies_to_both

    from summary
    group by scheme, segment_id

)

select * from final
