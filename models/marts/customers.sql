-- The public face of int_customers_banded: a view, so the 10-million-row
-- table is written once and the intermediate models read it there.
{{ config(materialized='view') }}

with

customers as (

    select * from {{ ref('int_customers_banded') }}

)

select * from customers
