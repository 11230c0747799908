{% macro sample_key(column) -%}
    md5(concat({{ column }}, '|', '{{ var('random_seed') }}'))
{%- endmacro %}
