{#-
    The user's file an extract is read from, or none for the shipped seed:
    $METANPROM_<EXTRACT>_PATH (what `metanprom run` sets), else var
    `<extract>_path` (for `dbt build --vars '{bank_scrooge_path: ...}'`, which
    re-parses the whole project).
    The environment variable is read only when a model runs (`run_env_var`), so
    a new path re-parses nothing: the seed stays a dependency either way
    (`stage_extract`).
    Arguments: extract - a key of var `extract_formats`.
-#}
{% macro extract_path(extract) -%}
    {{ return(run_env_var('METANPROM_' ~ (extract | upper) ~ '_PATH') or var(extract ~ '_path', none)) }}
{%- endmacro %}
