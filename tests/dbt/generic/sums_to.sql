{#-
    Groups (by `group_by`) whose `column_name` does not add up to `total`
    within `tolerance`: for shares of an exclusive scheme, which sum to 1.
-#}
{% test sums_to(model, column_name, group_by, total=1, tolerance=0.000001) %}

select
    {{ group_by | join(', ') }},
    sum({{ column_name }}) as actual_total

from {{ model }}
group by {{ group_by | join(', ') }}
having abs(sum({{ column_name }}) - {{ total }}) > {{ tolerance }}

{% endtest %}
