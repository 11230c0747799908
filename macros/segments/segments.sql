{#-
    Segment definitions are data (seeds/segment_definitions.csv); these
    macros compile them into SQL once per build.
-#}

{#- Features a segment rule may use, with how their values are written. -#}
{% macro segment_rule_features() -%}
    {{ return(var('features')['rule_types']) }}
{%- endmacro %}

{#-
    What `chosen_on` of a segment definition may say: an extract, an
    extract's discovery half (`<extract>:discovery_half`), none or unknown.
-#}
{% macro chosen_on_values() -%}
    {%- set values = [] -%}
    {%- for extract in var('extract_formats') -%}
        {%- do values.append(extract) -%}
        {%- do values.append(extract ~ ':discovery_half') -%}
    {%- endfor -%}
    {{ return(values + ['none', 'unknown']) }}
{%- endmacro %}

{#-
    The rows of the segment definitions, as a list of dicts (read at
    execution time; an empty list while dbt parses). Unit tests override
    this macro with rows of their own.
-#}
{% macro segment_definitions_rows() -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set relation = ref('stg_reference__segment_definitions') -%}
    {%- if load_relation(relation) is none -%}
        {#- not built yet (e.g. a linter compiling against an empty warehouse) -#}
        {{ return([]) }}
    {%- endif -%}
    {%- set table = run_query('select * from ' ~ relation ~ ' order by scheme, precedence') -%}
    {%- set rows = [] -%}
    {%- for row in table.rows -%}
        {%- set item = {} -%}
        {%- for name in table.column_names -%}
            {%- do item.update({name: row[name]}) -%}
        {%- endfor -%}
        {%- do rows.append(item) -%}
    {%- endfor -%}
    {{ return(rows) }}
{%- endmacro %}

{#- A rule value as a SQL literal of the feature's kind; fails naming the segment when it does not fit. -#}
{% macro _segment_literal(segment, feature, value) -%}
    {%- set kind = segment_rule_features()[feature] -%}
    {%- set text = value | string | trim -%}
    {%- if kind == 'number' -%}
        {%- if not (text | replace('.', '', 1) | replace('-', '', 1)).isdigit() -%}
            {{ exceptions.raise_compiler_error(
                "segment_definitions, segment " ~ segment ~ ": value '" ~ text ~ "' for " ~ feature ~ " is not a number") }}
        {%- endif -%}
        {{ text }}
    {%- elif kind == 'boolean' -%}
        {%- if text | lower not in ['true', 'false'] -%}
            {{ exceptions.raise_compiler_error(
                "segment_definitions, segment " ~ segment ~ ": value '" ~ text ~ "' for " ~ feature ~ " is not true or false") }}
        {%- endif -%}
        {{ text | lower }}
    {%- else -%}
        {{ sql_string(text) }}
    {%- endif -%}
{%- endmacro %}

{#-
    One condition of a rule as SQL.
    Arguments: segment (its id, for messages), feature (a column of
    `customers`), operator (= != < <= > >= between in), value (for
    `between` "low..high", for `in` "a|b|c").
-#}
{% macro segment_condition(segment, feature, operator, value) -%}
    {%- if feature not in segment_rule_features() -%}
        {{ exceptions.raise_compiler_error(
            "segment_definitions, segment " ~ segment ~ ": unknown feature '" ~ feature ~ "'; expected one of "
            ~ (segment_rule_features().keys() | list | join(', '))) }}
    {%- endif -%}
    {%- if operator in ['=', '!=', '<', '<=', '>', '>='] -%}
        {{ feature }} {{ operator }} {{ _segment_literal(segment, feature, value) }}
    {%- elif operator == 'between' -%}
        {%- set bounds = (value | string).split('..') -%}
        {%- if bounds | length != 2 -%}
            {{ exceptions.raise_compiler_error(
                "segment_definitions, segment " ~ segment ~ ": 'between' needs low..high, got '" ~ value ~ "'") }}
        {%- endif -%}
        {{ feature }} between {{ _segment_literal(segment, feature, bounds[0]) }} and {{ _segment_literal(segment, feature, bounds[1]) }}
    {%- elif operator == 'in' -%}
        {%- set items = [] -%}
        {%- for item in (value | string).split('|') -%}
            {%- do items.append(_segment_literal(segment, feature, item)) -%}
        {%- endfor -%}
        {{ feature }} in ({{ items | join(', ') }})
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "segment_definitions, segment " ~ segment ~ ": unknown operator '" ~ operator
            ~ "'; expected one of = != < <= > >= between in") }}
    {%- endif -%}
{%- endmacro %}

{#-
    The whole rule of a definition row (1 to 3 conditions, all must hold, and
    its extracts) as SQL; `skip` (1-3) leaves one condition out.
-#}
{% macro segment_rule(row, skip=none) -%}
    {%- set conditions = [] -%}
    {%- for i in [1, 2, 3] -%}
        {%- set feature = row['feature_' ~ i] -%}
        {%- if feature is not none and (feature | string | trim) != '' and i != skip -%}
            {%- do conditions.append(segment_condition(
                row['segment_id'], feature | string | trim, row['operator_' ~ i] | string | trim, row['value_' ~ i])) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if conditions | length == 0 and skip is none -%}
        {{ exceptions.raise_compiler_error(
            "segment_definitions, segment " ~ row['segment_id'] ~ ": a rule needs at least one condition") }}
    {%- endif -%}
    {%- set extracts = row['extracts'] | string | trim -%}
    {%- if extracts != 'all' -%}
        {%- set listed = [] -%}
        {%- for e in extracts.split('|') -%}{%- do listed.append("'" ~ e | trim ~ "'") -%}{%- endfor -%}
        {%- do conditions.insert(0, 'extract in (' ~ listed | join(', ') ~ ')') -%}
    {%- endif -%}
    {%- if conditions | length == 0 -%}
        (true)
    {%- else -%}
        ({{ conditions | join(') and (') }})
    {%- endif -%}
{%- endmacro %}

{#-
    The numeric thresholds of a definition row, for cut-point scans: a list
    of dicts with index (1-3), feature, operator and cut (a `between` gives
    two: >= low and <= high).
-#}
{% macro segment_thresholds(row) -%}
    {%- set found = [] -%}
    {%- for i in [1, 2, 3] -%}
        {%- set feature = row['feature_' ~ i] -%}
        {%- if feature is not none and segment_rule_features().get(feature | string | trim) == 'number' -%}
            {%- set operator = row['operator_' ~ i] | string | trim -%}
            {%- set value = row['value_' ~ i] | string | trim -%}
            {%- if operator in ['<', '<=', '>', '>='] -%}
                {%- do found.append({'index': i, 'feature': feature | trim, 'operator': operator, 'cut': value}) -%}
            {%- elif operator == 'between' -%}
                {#- one bound scanned at a time, the other kept: the right side of `>= low` stays below high -#}
                {%- set bounds = value.split('..') -%}
                {%- do found.append({'index': i, 'feature': feature | trim, 'operator': '>=', 'cut': bounds[0],
                    'keep': segment_condition(row['segment_id'], feature | trim, '<=', bounds[1])}) -%}
                {%- do found.append({'index': i, 'feature': feature | trim, 'operator': '<=', 'cut': bounds[1],
                    'keep': segment_condition(row['segment_id'], feature | trim, '>=', bounds[0])}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#- Scheme names in definition order, each with is_exclusive and its rows. -#}
{% macro segment_schemes(rows) -%}
    {%- set schemes = {} -%}
    {%- set order = [] -%}
    {%- for row in rows -%}
        {%- if row['scheme'] not in schemes -%}
            {%- do schemes.update({row['scheme']: []}) -%}
            {%- do order.append(row['scheme']) -%}
        {%- endif -%}
        {%- do schemes[row['scheme']].append(row) -%}
    {%- endfor -%}
    {%- set result = [] -%}
    {%- for name in order -%}
        {%- set segments = schemes[name] | sort(attribute='precedence') -%}
        {%- do result.append({'scheme': name, 'is_exclusive': (segments[0]['scheme_is_exclusive'] | string | lower) == 'true', 'segments': segments}) -%}
    {%- endfor -%}
    {{ return(result) }}
{%- endmacro %}

{#-
    The condition under which a customer counts in segment number `index`
    (0-based, in precedence order) of `scheme`: its rule, and in an
    exclusive scheme none of the rules before it. `index` = the number of
    segments stands for "unassigned": no rule holds.
-#}
{% macro segment_membership(scheme, index) -%}
    {%- set segments = scheme['segments'] -%}
    {%- set parts = [] -%}
    {%- if index < segments | length -%}
        {%- do parts.append(segment_rule(segments[index])) -%}
        {%- if scheme['is_exclusive'] -%}
            {%- for earlier in segments[:index] -%}
                {%- do parts.append('not coalesce(' ~ segment_rule(earlier) ~ ', false)') -%}
            {%- endfor -%}
        {%- endif -%}
    {%- else -%}
        {%- for segment in segments -%}
            {%- do parts.append('not coalesce(' ~ segment_rule(segment) ~ ', false)') -%}
        {%- endfor -%}
    {%- endif -%}
    ({{ parts | join(' and ') }})
{%- endmacro %}

{#- The extracts a scheme applies to, as a SQL condition on `extract`. -#}
{% macro segment_scheme_extracts(scheme) -%}
    {%- set listed = [] -%}
    {%- for segment in scheme['segments'] -%}
        {%- set extracts = segment['extracts'] | string | trim -%}
        {%- if extracts == 'all' -%}
            {{ return('true') }}
        {%- endif -%}
        {%- for e in extracts.split('|') -%}
            {%- if "'" ~ e | trim ~ "'" not in listed -%}{%- do listed.append("'" ~ e | trim ~ "'") -%}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return('extract in (' ~ listed | join(', ') ~ ')') }}
{%- endmacro %}
