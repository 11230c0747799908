{#-
    Rows of `model` for which `expression` is false or null (a `where` config
    may narrow the rows). Stricter than dbt_utils.expression_holds, under
    which a null passes: hence a name of its own.
-#}
{% test expression_holds(model, expression) %}

select * from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
