{#-
    A raw extract value as a double, or null when it is empty or not a
    number. Works whether the raw column is typed (a seed) or text (an
    extract read by the engine in place).

    Arguments:
      column - the raw column
      text   - true when the column holds a file's text (`extract_rows`):
               the value must then be a number of the project's grammar
               (var `number_pattern`), as the raw gate's pattern and range
               checks have it. Each engine's cast reads more than that
               ('1_000' and '1e3' on DuckDB, '5d' and hex on Spark, '+5'
               and '.5' on both), so without this the same file would give
               different marts on the two engines. A typed seed's value is
               a number already (its text may have an exponent).
-#}
{% macro parse_number(column, text=false) -%}
    {#- via trimmed text: spaces are forgiven (`trim_spaces`), and DuckDB cannot push the cast into the CSV reader
        (where it would raise) -#}
    {%- set trimmed = trim_spaces('cast(' ~ column ~ ' as string)') -%}
    {%- if text -%}
        case when {{ full_match(trimmed, var('number_pattern')) }} then try_cast({{ trimmed }} as double) end
    {%- else -%}
        try_cast({{ trimmed }} as double)
    {%- endif -%}
{%- endmacro %}

{#-
    A 0/1 flag in a file's text as the number 1 or 0 (for `number_as`'s
    `flag`): exactly "1" or "0" once trimmed of spaces (`trim_spaces`), the set the raw gate checks
    the flags against; null for anything else ("1.0", "yes"). Cheaper than
    `parse_number` (no pattern, no cast), and the real extracts spell their
    flags so.

    Arguments:
      column - the raw column, text
-#}
{% macro parse_flag_text(column) -%}
    case {{ trim_spaces('cast(' ~ column ~ ' as string)') }} when '1' then 1 when '0' then 0 end
{%- endmacro %}

{#-
    An already parsed number (`parse_number`) as `type`:
      integer - a whole number (850, 850.0) that fits an integer; null for 850.5
      double  - the number itself when it is finite
      flag    - 0/1 as a boolean; null for anything else

    Both engines' casts read "nan", "inf" and "Infinity" (and a number too
    large for a double) as a double that is not finite. It is not a number
    (the raw gate's number pattern does not match it either): null here, so
    `unparsed_columns` names it and its row is quarantined as unparsable,
    instead of turning every mean of its extract into NaN or stopping the
    clusters' fit. An integer or a flag is null for it already (no integer
    holds it; it is neither 0 nor 1); a double drops it with `nullif`s (NaN
    equals NaN in DuckDB and Spark).
-#}
{% macro number_as(number, type) -%}
    {%- if type == 'integer' -%}
        case
            when {{ number }} = round({{ number }})
                then try_cast({{ number }} as integer)
        end
    {%- elif type == 'flag' -%}
        case {{ number }} when 1 then true when 0 then false end
    {%- else -%}
        nullif(nullif(nullif(
            {{ number }},
            cast('NaN' as double)), cast('Infinity' as double)), cast('-Infinity' as double))
    {%- endif -%}
{%- endmacro %}

{#-
    The names of the columns (`columns`: a dict of raw column name to the
    expression holding its parsed value) whose raw value is present but
    parsed to null, joined by ", "; null when every value parsed.
-#}
{% macro unparsed_columns(columns) -%}
    nullif(concat_ws(
        ', ',
        {%- for column, parsed in columns.items() %}
            case
                when {{ column }} is not null and {{ parsed }} is null
                    then '{{ column }}'
            end{{ "," if not loop.last }}
        {%- endfor %}
    ), '')
{%- endmacro %}
