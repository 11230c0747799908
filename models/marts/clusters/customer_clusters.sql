with

customers as (

    select * from {{ ref('customers') }}

),

assignments as (

    select * from {{ ref('int_cluster_assignments') }}

),

final as (

    select
        customers.extract,
        customers.customer_key,
        assignments.cluster_id

    from customers
    inner join assignments
        on
            customers.extract = assignments.extract
            and customers.source_row_number = assignments.source_row_number

)

select * from final
