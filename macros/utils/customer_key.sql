{% macro customer_key(id_column='customer_id', city_code_column='city_code') -%}
    {{ id_column }} || '-' || coalesce({{ city_code_column }}, 'UNK')
{%- endmacro %}
