{#-
    One row per failing rule of the model: each data test on the model alone
    (not_null, accepted_range, accepted_values, expression_holds: counted in
    one scan of the model; unique, unique_combination_of_columns, sums_to:
    each its own query, as a scalar subquery), except those tagged
    checked_alone, checked by one dbt node instead of one each (macro
    `column_rules_of`). `rule` is the rule's own test, which
    `dbt test --select <rule>` runs alone to show its failing rows;
    `failures` is what that test would count. The test's own failures are
    their sum.
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
{%- set rules = column_rules_of(node_ids[0], model) %}
{%- if not rules %}
    {{ exceptions.raise_compiler_error('column_rules on ' ~ node_ids[0] ~ ' checks nothing: the node has no test it checks (other than tagged checked_alone); remove it') }}
{%- endif %}
{%- set counted = [] %}
{%- set queried = [] %}
{%- for rule in rules %}
    {%- do (counted if rule.aggregate else queried).append(loop.index) %}
{%- endfor %}

with
{%- if counted %}

counted as (

    select
        {%- for rule in rules if rule.aggregate %}
        {{ rule.aggregate }} as rule_{{ counted[loop.index0] }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}

),
{%- endif %}
{%- if queried %}

queried as (

    select
        {%- for rule in rules if not rule.aggregate %}
        (select count(*) from ({{ rule.query }}) as rule_query) as rule_{{ queried[loop.index0] }}{{ ',' if not loop.last }}
        {%- endfor %}

),
{%- endif %}

rules as (

    {%- for rule in rules %}
    select
        {{ loop.index }} as rule_number,
        {{ sql_string(rule.name) }} as rule,
        {{ sql_string(rule.column) if rule.column is not none else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as column_name
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select
        rules.rule,
        rules.column_name,
        case rules.rule_number
            {%- for rule in rules %}
            when {{ loop.index }} then {{ 'counted' if rule.aggregate else 'queried' }}.rule_{{ loop.index }}
            {%- endfor %}
        end as failures
    from rules
    {%- if counted %}
    cross join counted
    {%- endif %}
    {%- if queried %}
    cross join queried
    {%- endif %}

)

select * from final
where failures > 0

{%- endif %}

{% endtest %}
