{#-
    The typing shared by both extract formats' staging models.

    Arguments:
      relation - a CTE with one row per raw extract row, already renamed to
                 the canonical column names (customer_id, credit_score, city,
                 gender, age, property_score, balance, product_count,
                 has_credit_card, is_active, estimated_salary, is_churned)
                 and numbered (source_row_number)
      extract  - the extract format's name, written to the `extract` column

    Values are parsed, never coerced: a value that does not parse becomes
    null and its column is named in `unparsed_columns`, which the
    validation model turns into a quarantine reason.
-#}
{% macro type_customer_columns(relation, extract) -%}
    {%- set numeric_columns = {
        'credit_score': 'integer',
        'age': 'integer',
        'property_score': 'integer',
        'balance': 'double',
        'product_count': 'integer',
        'has_credit_card': 'flag',
        'is_active': 'flag',
        'estimated_salary': 'double',
        'is_churned': 'flag',
    } -%}
    select
        '{{ extract }}' as extract,
        source_row_number,
        nullif(trim(cast(customer_id as varchar)), '') as customer_id,
        nullif(trim(cast(city as varchar)), '') as city_raw,
        case upper(trim(cast(gender as varchar)))
            when 'Ж' then 'F'
            when 'М' then 'M'
        end as gender,
        nullif(trim(cast(gender as varchar)), '') as gender_raw,
        {%- for column, type in numeric_columns.items() %}
        {{ parse_value(column, type) }} as {{ column }},
        {%- endfor %}
        {{ unparsed_columns(numeric_columns) }} as unparsed_columns
    from {{ relation }}
{%- endmacro %}
