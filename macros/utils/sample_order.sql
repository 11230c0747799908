{% macro sample_order(column) -%}
    {{ return(adapter.dispatch('sample_order', 'metanprom')(column)) }}
{%- endmacro %}

{% macro default__sample_order(column) -%}
    ('0x' || left(md5(concat({{ column }}, '|', '{{ var('random_seed') }}')), 15))::bigint
{%- endmacro %}

{% macro spark__sample_order(column) -%}
    cast(conv(substr(md5(concat({{ column }}, '|', '{{ var('random_seed') }}')), 1, 15), 16, 10) as bigint)
{%- endmacro %}
