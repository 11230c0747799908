{{ config(materialized='table') }}

{%- set path = var('bank_scrooge_path', none) -%}
{%- if path -%}
    {{ check_extract_header(path, [
        'USERID', 'score', 'city', 'gender', 'age', 'equity', 'balance',
        'products', 'credit_card', 'last_activity', 'EST_SALARY', 'churn',
    ]) }}
{%- endif %}

-- The seed stays a dependency even when a user's file is read instead, so
-- unit tests (which run on the seed's columns) always find it built.
-- depends_on: {{ ref('bank_scrooge') }}

with

source as (

    select * from
    {%- if path %} {{ source('extracts', 'bank_scrooge') }}
    {%- else %} {{ ref('bank_scrooge') }}
    {%- endif %}

),

renamed as (

    select
        "USERID" as customer_id,
        score as credit_score,
        city,
        gender,
        age,
        equity as property_score,
        balance,
        products as product_count,
        credit_card as has_credit_card,
        last_activity as is_active,
        "EST_SALARY" as estimated_salary,
        churn as is_churned

    from source

),

typed as (

    {{ type_customer_columns('renamed', 'bank_scrooge') }}

)

select * from typed
