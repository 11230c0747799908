{#-
    The one place where analysis bands are defined: for each banded feature,
    the ascending cut points (a value equal to a cut point starts the next
    band) and how its labels are written. Every mart bands through the
    macros below, and the `analysis_bands` model lists the result.
-#}
{% macro band_definitions() -%}
    {{ return({
        'age': {'edges': [25, 35, 45, 55, 65], 'money': false, 'missing_label': 'unknown age'},
        'credit_score': {'edges': [650, 700, 750, 800, 850, 900, 950], 'money': false, 'missing_label': 'unknown score'},
        'balance': {'edges': [50000, 100000, 200000, 300000, 500000, 1000000, 2000000], 'money': true, 'missing_label': 'no balance'},
        'estimated_salary': {'edges': [25000, 50000, 75000, 100000, 150000, 200000, 300000], 'money': true, 'missing_label': 'unknown salary'},
    }) }}
{%- endmacro %}

{#- A cut point as written in a label: 25, 100k, 1.5M. -#}
{% macro _band_number(value, money) -%}
    {%- if not money -%}{{ value }}
    {%- elif value >= 1000000 -%}{{ (value / 1000000) | round(1) | string | replace('.0', '') }}M
    {%- else -%}{{ (value / 1000) | round(1) | string | replace('.0', '') }}k
    {%- endif -%}
{%- endmacro %}

{#-
    The bands of one feature as a list of dicts: band_order (1..n; 0 for
    missing), band_label (sortable: "02: 25–34"), lower_bound (inclusive,
    none for the first), upper_bound (exclusive, none for the last).
    Arguments: feature - a key of band_definitions().
-#}
{% macro band_list(feature) -%}
    {%- set spec = band_definitions()[feature] -%}
    {%- set edges = spec['edges'] -%}
    {%- set bands = [{'band_order': 0, 'band_label': '00: ' ~ spec['missing_label'], 'lower_bound': none, 'upper_bound': none}] -%}
    {%- for i in range(edges | length + 1) -%}
        {%- set lower = edges[i - 1] if i > 0 else none -%}
        {%- set upper = edges[i] if i < edges | length else none -%}
        {%- if lower is none -%}
            {%- set text = '< ' ~ _band_number(upper, spec['money']) -%}
        {%- elif upper is none -%}
            {%- set text = _band_number(lower, spec['money']) ~ '+' -%}
        {%- elif spec['money'] -%}
            {%- set text = _band_number(lower, true) ~ '–' ~ _band_number(upper, true) -%}
        {%- else -%}
            {%- set text = lower ~ '–' ~ (upper - 1) -%}
        {%- endif -%}
        {%- do bands.append({
            'band_order': i + 1,
            'band_label': '%02d' | format(i + 1) ~ ': ' ~ text,
            'lower_bound': lower,
            'upper_bound': upper,
        }) -%}
    {%- endfor -%}
    {{ return(bands) }}
{%- endmacro %}

{#- The sortable band label of `column`, banded as `feature`. -#}
{% macro band_label(feature, column) -%}
    {%- set bands = band_list(feature) -%}
    case
        when {{ column }} is null then '{{ bands[0].band_label }}'
        {%- for band in bands[1:] %}
        {%- if band.upper_bound is not none %}
        when {{ column }} < {{ band.upper_bound }} then '{{ band.band_label }}'
        {%- else %}
        else '{{ band.band_label }}'
        {%- endif %}
        {%- endfor %}
    end
{%- endmacro %}

{#- The band number of `column` (0 when missing, then 1..n), banded as `feature`. -#}
{% macro band_order(feature, column) -%}
    {%- set bands = band_list(feature) -%}
    case
        when {{ column }} is null then 0
        {%- for band in bands[1:] %}
        {%- if band.upper_bound is not none %}
        when {{ column }} < {{ band.upper_bound }} then {{ band.band_order }}
        {%- else %}
        else {{ band.band_order }}
        {%- endif %}
        {%- endfor %}
    end
{%- endmacro %}

{#-
    The sortable band label of a column that holds a band number (what band_order gives), as a SQL case
    expression: lets a model group by the narrow number and name the band after.
    Arguments: feature - a key of band_definitions(); order_column - SQL of the band number.
-#}
{% macro band_label_of_order(feature, order_column) -%}
    case {{ order_column }}
        {%- for band in band_list(feature) %}
            when {{ band.band_order }} then '{{ band.band_label }}'
        {%- endfor %}
    end
{%- endmacro %}
