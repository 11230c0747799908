{#-
    A value as a SQL string literal: every quote in it is doubled, so a path
    or a user's value can never end the literal (DuckDB's and Spark's
    standard-string rules); on Spark, whose literals also read backslash
    escapes, every backslash is doubled too. The one way text from a var, a
    seed or a file name reaches SQL in this project.
    Arguments:
      value         - the text (a path, a segment's value, ...)
      format_braces - double { and } too, for a string dbt-duckdb passes
                      through Python's str.format (a source's external_location)
-#}
{% macro sql_string(value, format_braces=false) -%}
    {%- set text = value | string -%}
    {%- if '\x00' in text -%}
        {{ exceptions.raise_compiler_error("a NUL character cannot be part of a SQL string: " ~ (text | replace('\x00', '\\0'))) }}
    {%- endif -%}
    {%- if target.type == 'spark' -%}
        {%- set text = text | replace('\\', '\\\\') -%}
    {%- endif -%}
    {%- set quoted = "'" ~ (text | replace("'", "''")) ~ "'" -%}
    {{- quoted | replace('{', '{{') | replace('}', '}}') if format_braces else quoted -}}
{%- endmacro %}
