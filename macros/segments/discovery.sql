{#-
    The features segment discovery combines (one, two or three at a time):
    categories and bands of `customers`, each as text.
-#}
{% macro discovery_features() -%}
    {{ return(var('features')['categorical']) }}
{%- endmacro %}

{#- Every combination of one to `max_size` items of `items`, in order, as lists. -#}
{% macro combinations_up_to(items, max_size) -%}
    {%- set result = [] -%}
    {%- for i in range(items | length) -%}
        {%- do result.append([items[i]]) -%}
        {%- if max_size >= 2 -%}
            {%- for j in range(i + 1, items | length) -%}
                {%- do result.append([items[i], items[j]]) -%}
                {%- if max_size >= 3 -%}
                    {%- for k in range(j + 1, items | length) -%}
                        {%- do result.append([items[i], items[j], items[k]]) -%}
                    {%- endfor -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(result) }}
{%- endmacro %}
