{#-
    The user's file an extract is read from, or none for the shipped seed:
    $METANPROM_<EXTRACT>_PATH (what `metanprom run` sets: a new path then
    re-parses only the models that read it), else var `<extract>_path` (for
    `dbt build --vars '{bank_scrooge_path: ...}'`, which re-parses the whole
    project).
    Arguments: extract - a key of var `extract_formats`.
-#}
{% macro extract_path(extract) -%}
    {{ return(env_var('METANPROM_' ~ (extract | upper) ~ '_PATH', '') or var(extract ~ '_path', none)) }}
{%- endmacro %}
