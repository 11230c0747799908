{#-
    An environment variable's value when a model or hook runs, '' while dbt
    parses. dbt records each variable a file reads while parsing and, when its
    value changes, re-parses that file and every node downstream of it (a new
    extract path re-parsed 10 files, 1.1 s). For what `metanprom run` passes by
    the environment (an extract's path, the raw gate's results, the memory
    budget), nothing a parse captures depends on the value.
    Arguments: name - the variable's name
-#}
{% macro run_env_var(name) -%}
    {{ return(env_var(name, '') if execute else '') }}
{%- endmacro %}
