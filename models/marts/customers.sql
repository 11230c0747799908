with

banded as (

    select * from {{ ref('int_customers_banded') }}

),

final as (

    select * from banded

)

select * from final
