{#-
    Each combination of `combination_of_columns` that occurs more than once,
    with its count. Rows are first reduced to a 64-bit hash of the
    combination, and the hashes that repeat are found (macro
    `repeated_hashes`: on DuckDB by sorting them, which spills to disk and
    leaves memory to the nodes running beside it; elsewhere by a hash
    aggregate); only the rows whose hash repeats are then grouped by the
    columns themselves, so a hash collision can never report a false
    duplicate or hide a real one.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set columns = combination_of_columns | join(', ') %}

with

hashed as {{ cte_not_materialized() }} (

    select
        {{ columns }},
        hash({{ columns }}) as combination_hash

    from {{ model }}

),

repeated_hashes as (

    {{ repeated_hashes('hashed', 'combination_hash') }}

),

final as (

    select
        {{ columns }},
        count(*) as occurrences

    from hashed
    where combination_hash in (select repeated_hashes.combination_hash from repeated_hashes)
    group by {{ columns }}
    having count(*) > 1

)

select * from final

{% endtest %}
