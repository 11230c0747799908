{#- Rows of `model` for which `expression` is not true (a `where` clause may narrow the rows). -#}
{% test expression_is_true(model, expression) %}

select * from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
