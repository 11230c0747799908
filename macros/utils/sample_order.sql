{% macro sample_order(column) -%}
    {{ return(adapter.dispatch('sample_order', 'metanprom')(column)) }}
{%- endmacro %}

{% macro default__sample_order(column) -%}
    ('0x' || left(md5(concat({{ column }}, '|', '{{ var('random_seed') }}')), 15))::bigint
{%- endmacro %}

{% macro spark__sample_order(column) -%}
    cast(conv(substr(md5(concat({{ column }}, '|', '{{ var('random_seed') }}')), 1, 15), 16, 10) as bigint)
{%- endmacro %}

{#-
    True for the customers of the confirmation half: the first bit of the
    sample order (the md5's first hexadecimal digit 8 or more). Segment
    discovery selects on the other half and confirms on this one; a segment
    rule chosen on the discovery half (`chosen_on` = `<extract>:discovery_half`)
    is confirmed on this one.
-#}
{% macro is_confirmation_half(sample_order_column='sample_order') -%}
    {{ sample_order_column }} >= 576460752303423488
{%- endmacro %}
