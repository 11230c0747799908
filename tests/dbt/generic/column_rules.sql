{#-
    One row per column rule of the model that fails: every not_null,
    accepted_range and accepted_values test declared on its columns (except
    those tagged checked_alone), checked in one scan of the model instead of
    one query and one dbt node each (macro `column_rules_of`). `rule` is the
    rule's own test, which `dbt test --select <rule>` runs alone to show its
    failing rows; `failures` is what that test would count. The test's own
    failures are their sum.
-#}
{% test column_rules(model) %}

{{ config(fail_calc='coalesce(sum(failures), 0)') }}

{%- if not execute %}

select
    cast(null as {{ dbt.type_string() }}) as rule,
    cast(null as {{ dbt.type_string() }}) as column_name,
    cast(null as {{ dbt.type_bigint() }}) as failures
where false

{%- else %}

{%- set node_ids = [] %}
{%- for node in graph.nodes.values() if node.resource_type in ['model', 'seed', 'snapshot']
        and node.alias | lower == model.identifier | lower and node.schema | lower == model.schema | lower %}
    {%- do node_ids.append(node.unique_id) %}
{%- endfor %}
{%- if node_ids | length != 1 %}
    {{ exceptions.raise_compiler_error('column_rules: no single node is ' ~ model ~ ' (found: ' ~ node_ids ~ ')') }}
{%- endif %}
{%- set rules = column_rules_of(node_ids[0]) %}
{%- if not rules %}
    {{ exceptions.raise_compiler_error('column_rules on ' ~ node_ids[0] ~ ' checks nothing: the node has no not_null, accepted_range or accepted_values test (other than tagged checked_alone); remove it') }}
{%- endif %}

with

counted as (

    select
        {%- for rule in rules %}
        {{ rule.failures }} as rule_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}

),

rules as (

    {%- for rule in rules %}
    select
        {{ loop.index }} as rule_number,
        {{ sql_string(rule.name) }} as rule,
        {{ sql_string(rule.column) }} as column_name
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select
        rules.rule,
        rules.column_name,
        case rules.rule_number
            {%- for rule in rules %}
            when {{ loop.index }} then counted.rule_{{ loop.index }}
            {%- endfor %}
        end as failures
    from rules
    cross join counted

)

select * from final
where failures > 0

{%- endif %}

{% endtest %}
