-- a view of the one table that holds the valid rows with their bands (`int_customers_banded`): at 10 million
-- customers a second table would write the same rows once more. No filter here, so the engine knows its row
-- count exactly and puts the narrow side of a join on its hash table.
{{ config(materialized='view') }}

with

banded as (

    select * from {{ ref('int_customers_banded') }}

),

final as (

    select * from banded

)

select * from final
