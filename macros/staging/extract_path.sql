{#-
    The user's file an extract is read from, or none for the shipped seed:
    $METANPROM_<EXTRACT>_PATH (what `metanprom run` sets), else var
    `<extract>_path` (for `dbt build --vars '{bank_scrooge_path: ...}'`, which
    re-parses the whole project).
    The environment variable is read only when a model runs (`execute`), never
    while dbt parses: dbt records each variable a file reads while parsing and
    re-parses that file, and every model downstream of it, when its value
    changes (10 files, 1.1 s, on each new path). Nothing a parse captures
    depends on the path: the seed stays a dependency either way
    (`stage_extract`).
    Arguments: extract - a key of var `extract_formats`.
-#}
{% macro extract_path(extract) -%}
    {%- set from_environment = env_var('METANPROM_' ~ (extract | upper) ~ '_PATH', '') if execute else '' -%}
    {{ return(from_environment or var(extract ~ '_path', none)) }}
{%- endmacro %}
