{#-
    The column rules one `column_rules` test checks in one query: every
    not_null, accepted_range and accepted_values test declared on a column of
    the node `node_id`, except those tagged `checked_alone` (they run as tests
    of their own). Each as a dict: `name` (the test's own name, which
    `dbt test --select <name>` runs alone), `column` and `failures` (an
    aggregate over the node's rows giving what that test would count: its
    failing rows; for accepted_values, as dbt's own test, its distinct failing
    values). Raises when a rule is declared in a way one query cannot check
    exactly as its own test would (a config other than the defaults, an
    argument written in Jinja): such a test is tagged `checked_alone`.
    Arguments:
      node_id - the unique id of the model or seed the rules are declared on
      nodes   - the project's nodes (default: dbt's graph)
-#}
{% macro column_rules_of(node_id, nodes=none) -%}
    {%- set nodes = graph.nodes.values() if nodes is none else nodes -%}
    {%- set rules = [] -%}
    {%- for test in nodes if test.resource_type == 'test' and test.attached_node == node_id
            and (test.test_metadata or {}).get('name') in column_rule_names()
            and 'checked_alone' not in (test.config.tags or []) -%}
        {%- do check_column_rule(test) -%}
        {%- set arguments = test.test_metadata.kwargs -%}
        {%- set column = arguments.column_name -%}
        {%- set kind = test.test_metadata.name -%}
        {%- if kind == 'not_null' -%}
            {%- set failures = 'count(case when ' ~ column ~ ' is null then 1 end)' -%}
        {%- elif kind == 'accepted_range' -%}
            {%- set inclusive = arguments.get('inclusive', true) -%}
            {%- set outside = ['false'] -%}
            {%- if arguments.get('min_value') is not none -%}
                {%- do outside.append(column ~ (' < ' if inclusive else ' <= ') ~ arguments.min_value) -%}
            {%- endif -%}
            {%- if arguments.get('max_value') is not none -%}
                {%- do outside.append(column ~ (' > ' if inclusive else ' >= ') ~ arguments.max_value) -%}
            {%- endif -%}
            {%- set failures = 'count(case when ' ~ column ~ ' is not null and (' ~ (outside | join(' or ')) ~ ') then 1 end)' -%}
        {%- else -%}
            {%- set listed = [] -%}
            {%- for value in arguments['values'] -%}
                {%- do listed.append("'" ~ value ~ "'" if arguments.get('quote', true) else value | string) -%}
            {%- endfor -%}
            {%- set failures = 'count(distinct case when ' ~ column ~ ' not in (' ~ (listed | join(', ')) ~ ') then ' ~ column ~ ' end)' -%}
        {%- endif -%}
        {%- do rules.append({'name': test.name, 'column': column, 'failures': failures}) -%}
    {%- endfor -%}
    {{- return(rules | sort(attribute='name')) -}}
{%- endmacro %}


{#- The tests a `column_rules` test checks in one query, by their generic test's name. -#}
{% macro column_rule_names() -%}
    {{- return(['not_null', 'accepted_range', 'accepted_values']) -}}
{%- endmacro %}


{#-
    Raises unless `test` (a not_null, accepted_range or accepted_values test
    node) can be checked by a column_rules query exactly as by itself: dbt's
    default config for a test (severity error, no where, limit,
    store_failures, fail_calc, warn_if or error_if of its own) and arguments
    without Jinja (its query renders no argument).
    Arguments:
      test - the test node
-#}
{% macro check_column_rule(test) -%}
    {%- set config = test.config -%}
    {%- set defaults = {'severity': 'ERROR', 'where': none, 'limit': none, 'store_failures': none,
                        'fail_calc': 'count(*)', 'warn_if': '!= 0', 'error_if': '!= 0'} -%}
    {%- set differing = [] -%}
    {%- for key, value in defaults.items() -%}
        {%- set actual = config.get(key) -%}
        {%- if (actual | upper if key == 'severity' and actual is string else actual) != value -%}
            {%- do differing.append(key ~ ': ' ~ actual) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for key, value in test.test_metadata.kwargs.items() if key != 'model' and '{{' in (value | string) -%}
        {%- do differing.append('argument ' ~ key ~ ' written in Jinja') -%}
    {%- endfor -%}
    {%- if test.test_metadata.get('namespace') is not none -%}
        {%- do differing.append("a package's test (" ~ test.test_metadata.namespace ~ ')') -%}
    {%- endif -%}
    {%- if differing -%}
        {{ exceptions.raise_compiler_error(
            'test ' ~ test.name ~ ' cannot be checked in its node\'s column_rules query (' ~ (differing | join('; '))
            ~ '): give it the tag checked_alone (config: {tags: [checked_alone]}), so it runs as a test of its own') }}
    {%- endif -%}
{%- endmacro %}


{#-
    Raises unless every not_null, accepted_range and accepted_values test not
    tagged `checked_alone` is on a node that has a `column_rules` test: the
    project's default selector (selectors.yml) leaves those tests out, their
    node's column_rules test checking them, so one without it would never
    run. The project's on-run-start hook; no SQL.
    Arguments:
      nodes - the project's nodes (default: dbt's graph)
-#}
{% macro check_column_rules_cover(nodes=none) -%}
    {%- if execute -%}
        {%- set nodes = graph.nodes.values() if nodes is none else nodes -%}
        {%- set covered = [] -%}
        {%- for test in nodes if test.resource_type == 'test' and (test.test_metadata or {}).get('name') == 'column_rules' -%}
            {%- do covered.append(test.attached_node) -%}
        {%- endfor -%}
        {%- set uncovered = [] -%}
        {%- for test in nodes if test.resource_type == 'test' and test.attached_node not in covered
                and (test.test_metadata or {}).get('name') in column_rule_names()
                and 'checked_alone' not in (test.config.tags or []) -%}
            {%- do uncovered.append(test.name ~ ' (on ' ~ test.attached_node ~ ')') -%}
        {%- endfor -%}
        {%- if uncovered -%}
            {{ exceptions.raise_compiler_error(
                'these tests would never run by default, their node having no column_rules test to check them: '
                ~ (uncovered | join(', ')) ~ '. Add `- column_rules` to the node\'s data_tests, or tag the test checked_alone') }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
