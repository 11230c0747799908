{%- set path = var('bank_scrooge_path', none) -%}
{%- if path -%}
    {{ check_extract_header(path, [
        'USERID', 'score', 'city', 'gender', 'age', 'equity', 'balance',
        'products', 'credit_card', 'last_activity', 'EST_SALARY', 'churn',
    ]) }}
{%- endif %}

with

source as (

    select * from
    {%- if path %} {{ source('extracts', 'bank_scrooge') }}
    {%- else %} {{ ref('bank_scrooge') }}
    {%- endif %}

),

renamed as (

    select
        row_number() over () as source_row_number,
        "USERID" as customer_id,
        "score" as credit_score,
        "city" as city,
        "gender" as gender,
        "age" as age,
        "equity" as property_score,
        "balance" as balance,
        "products" as product_count,
        "credit_card" as has_credit_card,
        "last_activity" as is_active,
        "EST_SALARY" as estimated_salary,
        "churn" as is_churned

    from source

),

typed as (

    {{ type_customer_columns('renamed', 'bank_scrooge') }}

)

select * from typed
