{{ config(materialized='table') }}

{%- set path = var('bank_dataset_path', none) -%}
{%- if path -%}
    {{ check_extract_header(path, [
        'userid', 'score', 'City', 'Gender', 'Age', 'Objects', 'Balance',
        'Products', 'CreditCard', 'Loyalty', 'estimated_salary', 'Churn',
    ]) }}
{%- endif %}

-- The seed stays a dependency even when a user's file is read instead, so
-- unit tests (which run on the seed's columns) always find it built.
-- depends_on: {{ ref('bank_dataset') }}

with

source as (

    select * from
    {%- if path %} {{ source('extracts', 'bank_dataset') }}
    {%- else %} {{ ref('bank_dataset') }}
    {%- endif %}

),

renamed as (

    select
        userid as customer_id,
        score as credit_score,
        "City" as city,
        "Gender" as gender,
        "Age" as age,
        "Objects" as property_score,
        "Balance" as balance,
        "Products" as product_count,
        "CreditCard" as has_credit_card,
        "Loyalty" as is_active,
        estimated_salary,
        "Churn" as is_churned

    from source

),

typed as (

    {{ type_customer_columns('renamed', 'bank_dataset') }}

)

select * from typed
