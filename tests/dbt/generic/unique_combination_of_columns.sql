{#-
    Each combination of `combination_of_columns` that occurs more than once,
    with its count. Rows are first grouped by a 64-bit hash of the
    combination (a cheap aggregate even over tens of millions of rows); only
    the rows whose hash repeats are then grouped by the columns themselves,
    so a hash collision can never report a false duplicate or hide a real one.
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

    select combination_hash

    from hashed
    group by combination_hash
    having count(*) > 1

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
