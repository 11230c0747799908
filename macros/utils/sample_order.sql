{% macro sample_order(column) -%}
    {{ return(adapter.dispatch('sample_order', 'metanprom')(column)) }}
{%- endmacro %}

{% macro default__sample_order(column) -%}
    ('0x' || left(md5(concat({{ column }}, '|', '{{ var('random_seed') }}')), 15))::bigint
{%- endmacro %}
