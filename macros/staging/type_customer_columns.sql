{#-
    The typing shared by both extract formats' base models.

    Arguments:
      relation - a CTE with one row per raw extract row, in file order,
                 already renamed to the canonical column names (customer_id,
                 credit_score, city, gender, age, property_score, balance,
                 product_count, has_credit_card, is_active, estimated_salary,
                 is_churned)
      extract  - the extract format's name, written to the `extract` column
      text     - true when `relation` holds a user's file as text: its
                 numbers must be of the project's grammar (`parse_number`),
                 its 0/1 flags exactly 0 or 1 (`parse_flag_text`)

    The columns parsed and their types are var `customer_columns`, the
    gender codes var `gender_codes` (dbt_project.yml).

    Values are parsed, never coerced: a value that does not parse becomes
    null and its column is named in `unparsed_columns`, which the
    validation model turns into a quarantine reason. Each raw value is
    parsed once (in `numbers`); the typed value and the unparsed check
    both read that number.
-#}
{% macro type_customer_columns(relation, extract, text=false) -%}
    {%- set numeric_columns = var('customer_columns') -%}
    {%- set parsed = {} -%}
    {%- for column, type in numeric_columns.items() -%}
        {%- do parsed.update({column: number_as(column ~ '__number', type)}) -%}
    {%- endfor -%}
    select
        {{ carried_row_number() }}
        '{{ extract }}' as extract,
        nullif({{ trim_spaces('cast(customer_id as string)') }}, '') as customer_id,
        nullif({{ trim_spaces('cast(city as string)') }}, '') as city_raw,
        case upper({{ trim_spaces('cast(gender as string)') }})
            {%- for spelled, code in var('gender_codes').items() %}
            when {{ sql_string(spelled) }} then {{ sql_string(code) }}
            {%- endfor %}
        end as gender,
        nullif({{ trim_spaces('cast(gender as string)') }}, '') as gender_raw,
        {%- for column in numeric_columns %}
        {{ parsed[column] }} as {{ column }},
        {%- endfor %}
        {{ unparsed_columns(parsed) }} as unparsed_columns
    from (
        select
            *,
            {%- for column, type in numeric_columns.items() %}
            {{ parse_flag_text(column) if text and type == 'flag' else parse_number(column, text) }}
                as {{ column }}__number{{ "," if not loop.last }}
            {%- endfor %}
        from {{ relation }}
    ) as numbers
{%- endmacro %}
