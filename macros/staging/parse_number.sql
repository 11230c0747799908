{#-
    Parse one raw extract value as `type`:
      integer - a whole number (850, 850.0); null for 850.5 or text
      double  - any number
      flag    - 0/1 as a boolean; null for anything else
    Empty values are null. Works whether the raw column is typed (a seed)
    or text (an extract read by DuckDB in place).
-#}
{% macro parse_value(column, type) -%}
    {#- via trimmed text: spaces are forgiven, and DuckDB cannot push the cast into the CSV reader (where it would raise) -#}
    {%- set number = 'try_cast(trim(cast(' ~ column ~ ' as varchar)) as double)' -%}
    {%- if type == 'integer' -%}
        case
            when {{ number }} = round({{ number }})
                then cast({{ number }} as integer)
        end
    {%- elif type == 'flag' -%}
        case {{ number }} when 1 then true when 0 then false end
    {%- else -%}
        {{ number }}
    {%- endif -%}
{%- endmacro %}

{#-
    The names of the columns (`columns`: a dict of column name to the type
    given to `parse_value`) whose value is present but does not parse, joined
    by ", "; null when every value parsed.
-#}
{% macro unparsed_columns(columns) -%}
    nullif(concat_ws(
        ', ',
        {%- for column, type in columns.items() %}
            case
                when {{ column }} is not null and {{ parse_value(column, type) }} is null
                    then '{{ column }}'
            end{{ "," if not loop.last }}
        {%- endfor %}
    ), '')
{%- endmacro %}
