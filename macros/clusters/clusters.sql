{#- Nearest-centre assignment in plain SQL (no lists, no lambdas): the same on every engine. -#}

{% macro standardised_squared_distance(features, index) -%}
    {%- for feature, sql in features.items() -%}
        {{ ' + ' if not loop.first }}power(({{ sql }} - mean__{{ feature }}) / scale__{{ feature }} - c{{ index }}__{{ feature }}, 2)
    {%- endfor -%}
{%- endmacro %}

{% macro nearest_centre_index(centre_count) -%}
    case
    {%- for index in range(centre_count) %}
        when distance_{{ index }} is not null
        {%- for other in range(centre_count) if other != index %}
            and (distance_{{ other }} is null or distance_{{ index }} {{ '<=' if other > index else '<' }} distance_{{ other }})
        {%- endfor %}
        then {{ index }}
    {%- endfor %}
    end
{%- endmacro %}
