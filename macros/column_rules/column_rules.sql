{#-
    The rules one `column_rules` test checks in one query: every data test on
    the node `node_id` alone (see `column_rule_kinds`), except those tagged
    `checked_alone` (they run as tests of their own). Each as a dict: `name`
    (the test's own name, which `dbt test --select <name>` runs alone),
    `column` (its column, or none) and either `aggregate` (for a rule on each
    row: an aggregate over the node's rows giving what its test counts, its
    failing rows; for accepted_values, as dbt's own test, its distinct
    failing values) or `query` (any other: its test's own query, whose rows
    are its failures). Raises when a test cannot be checked exactly as on its
    own (`check_column_rule`).
    Arguments:
      node_id  - the unique id of the model or seed the tests are declared on
      relation - the node's relation, which the queries read
      nodes    - the project's nodes (default: dbt's graph)
-#}
{% macro column_rules_of(node_id, relation, nodes=none) -%}
    {%- set nodes = graph.nodes.values() if nodes is none else nodes -%}
    {%- set kinds = column_rule_kinds() -%}
    {%- set rules = [] -%}
    {%- for test in nodes if test.resource_type == 'test' and test.attached_node == node_id
            and (test.test_metadata or {}).get('name') in kinds
            and 'checked_alone' not in (test.config.tags or []) -%}
        {%- do check_column_rule(test) -%}
        {%- set arguments = test.test_metadata.kwargs -%}
        {%- set column = arguments.get('column_name') -%}
        {%- set kind = test.test_metadata.name -%}
        {%- set where = test.config.get('where') -%}
        {%- if kinds[kind] == 'query' -%}
            {%- set rows = relation if where is none else '(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery' -%}
            {%- set test_arguments = {} -%}
            {%- for key, value in arguments.items() if key != 'model' -%}
                {%- do test_arguments.update({key: value}) -%}
            {%- endfor -%}
            {%- do rules.append({'name': test.name, 'column': column,
                                 'query': context['test_' ~ kind](model=rows, **test_arguments)}) -%}
        {%- else -%}
            {%- set distinct = false -%}
            {%- if kind == 'not_null' -%}
                {%- set failing = column ~ ' is null' -%}
            {%- elif kind == 'expression_holds' -%}
                {%- set failing = 'not coalesce((' ~ arguments.expression ~ '), false)' -%}
            {%- elif kind == 'accepted_range' -%}
                {%- set inclusive = arguments.get('inclusive', true) -%}
                {%- set outside = ['false'] -%}
                {%- if arguments.get('min_value') is not none -%}
                    {%- do outside.append(column ~ (' < ' if inclusive else ' <= ') ~ arguments.min_value) -%}
                {%- endif -%}
                {%- if arguments.get('max_value') is not none -%}
                    {%- do outside.append(column ~ (' > ' if inclusive else ' >= ') ~ arguments.max_value) -%}
                {%- endif -%}
                {%- set failing = column ~ ' is not null and (' ~ (outside | join(' or ')) ~ ')' -%}
            {%- else -%}
                {%- set listed = [] -%}
                {%- for value in arguments['values'] -%}
                    {%- do listed.append("'" ~ value ~ "'" if arguments.get('quote', true) else value | string) -%}
                {%- endfor -%}
                {%- set failing = column ~ ' not in (' ~ (listed | join(', ')) ~ ')' -%}
                {%- set distinct = true -%}
            {%- endif -%}
            {%- if where is not none -%}
                {%- set failing = '(' ~ where ~ ') and (' ~ failing ~ ')' -%}
            {%- endif -%}
            {%- set aggregate = 'count(distinct case when ' ~ failing ~ ' then ' ~ column ~ ' end)' if distinct
                                else 'count(case when ' ~ failing ~ ' then 1 end)' -%}
            {%- do rules.append({'name': test.name, 'column': column, 'aggregate': aggregate}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{- return(rules | sort(attribute='name')) -}}
{%- endmacro %}


{#-
    The generic tests a `column_rules` test checks in one query, each with
    how: `aggregate` (a rule on each row, counted in the one scan of the node
    all such rules share) or `query` (its own query, as a scalar subquery).
-#}
{% macro column_rule_kinds() -%}
    {{- return({
        'not_null': 'aggregate',
        'accepted_range': 'aggregate',
        'accepted_values': 'aggregate',
        'expression_holds': 'aggregate',
        'unique': 'query',
        'unique_combination_of_columns': 'query',
        'sums_to': 'query',
    }) -}}
{%- endmacro %}


{#-
    Raises unless `test` can be checked in a column_rules query exactly as on
    its own: dbt's default config for a test (severity error, no limit,
    store_failures, fail_calc, warn_if or error_if of its own; a `where` is
    applied), arguments without Jinja (the query renders no argument) and no
    node read but its own (no ref in its arguments).
    Arguments:
      test - the test node
-#}
{% macro check_column_rule(test) -%}
    {%- set config = test.config -%}
    {%- set defaults = {'severity': 'ERROR', 'limit': none, 'store_failures': none,
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
    {%- set others = ((test.get('depends_on') or {}).get('nodes') or []) | reject('equalto', test.attached_node) | list -%}
    {%- if others -%}
        {%- do differing.append('it reads ' ~ (others | join(', '))) -%}
    {%- endif -%}
    {%- if differing -%}
        {{ exceptions.raise_compiler_error(
            'test ' ~ test.name ~ ' cannot be checked in its node\'s column_rules query (' ~ (differing | join('; '))
            ~ '): give it the tag checked_alone (config: {tags: [checked_alone]}), so it runs as a test of its own') }}
    {%- endif -%}
{%- endmacro %}


{#-
    Raises unless every test of a kind `column_rules` checks
    (`column_rule_kinds`) and not tagged `checked_alone` is on a node that
    has a `column_rules` test: the project's default selector
    (selectors.yml) leaves those tests out, their node's column_rules test
    checking them, so one without it would never run. The project's
    on-run-start hook; no SQL.
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
                and (test.test_metadata or {}).get('name') in column_rule_kinds()
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
