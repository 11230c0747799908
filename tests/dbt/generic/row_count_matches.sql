{#-
    Compares the row count of `model` (or a count expression over it,
    `expression`) per `group_by` column with a count expression
    (`compare_expression`, e.g. `sum(customers)`) on `compare_model`;
    returns each group where they differ.
-#}
{% test row_count_matches(model, group_by, compare_model, expression='count(*)', compare_expression='count(*)', where_compare='true') %}

with

actual as (

    select {{ group_by }} as group_value, {{ expression }} as actual_rows
    from {{ model }}
    group by {{ group_by }}

),

expected as (

    select {{ group_by }} as group_value, {{ compare_expression }} as expected_rows
    from {{ compare_model }}
    where {{ where_compare }}
    group by {{ group_by }}

)

select
    coalesce(actual.group_value, expected.group_value) as group_value,
    coalesce(actual.actual_rows, 0) as actual_rows,
    coalesce(expected.expected_rows, 0) as expected_rows

from actual
full outer join expected
    on actual.group_value = expected.group_value
where coalesce(actual.actual_rows, 0) <> coalesce(expected.expected_rows, 0)

{% endtest %}
