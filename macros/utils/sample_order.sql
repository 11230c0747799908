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

{#-
    Per extract of `relation`, a cut-off of `sample_order` below which at
    least the first `size` customers lie: the first `size` in sample order
    are then read among those below it (about a quarter more than `size`),
    not ordered from every customer. A dict extract -> cut-off; an extract is
    left out where the cut-off would hold every customer, or where fewer than
    `size` lie below it (then every customer is ordered: the same rows). Two
    small aggregates, run when the model runs (none while dbt parses).
-#}
{% macro sample_cut_offs(relation, size) -%}
    {%- if not execute or load_relation(relation) is none -%}
        {#- parsing, or compiling against a warehouse without it (a linter): no cut-off -#}
        {{ return({}) }}
    {%- endif -%}
    {#- sample_order is uniform over [0, 2^60) -#}
    {%- set order_range = 2 ** 60 -%}
    {%- set sizes = run_query('select extract, count(*) as customers from ' ~ relation ~ ' group by extract') -%}
    {%- set candidates = {} -%}
    {%- for row in sizes.rows -%}
        {%- set customers = row['customers'] | int -%}
        {%- set cut = ((1.25 * size + 1000) / customers * order_range) | round(0, 'ceil') | int -%}
        {%- if cut < order_range -%}
            {%- do candidates.update({row['extract']: [cut, [size, customers] | min]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not candidates -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set below = [] -%}
    {%- for extract, candidate in candidates.items() -%}
        {%- do below.append('select ' ~ sql_string(extract) ~ ' as extract, count(*) as below from ' ~ relation
            ~ ' where extract = ' ~ sql_string(extract) ~ ' and sample_order < ' ~ candidate[0]) -%}
    {%- endfor -%}
    {%- set counted = run_query(below | join(' union all ')) -%}
    {%- set cut_offs = {} -%}
    {%- for row in counted.rows -%}
        {%- set candidate = candidates[row['extract']] -%}
        {%- if (row['below'] | int) >= candidate[1] -%}
            {%- do cut_offs.update({row['extract']: candidate[0]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(cut_offs) }}
{%- endmacro %}
