{#-
    Seeds on Spark: dbt's seed materialization calls these two in place of
    dbt-spark's own (DuckDB loads seeds its own way).

    A seed table gets one column more than its file: `source_row_number`,
    the row's position in the file (1, 2, ...). A Spark table keeps no row
    order, and the staging models number an extract's rows by the file's
    order (DuckDB reads it from the table's rowid).

    The values are written as SQL literals (`spark_literal`): dbt-spark 1.11
    pastes each value between quotes without escaping it, so a value holding
    a quote breaks the insert, and an empty cell arrives as the text 'None'.

    Arguments:
      model       - the seed node
      agate_table - the seed file as read by dbt
-#}
{% macro spark__create_csv_table(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set sql -%}
        create table {{ this.render() }} (
            {%- for column_name in agate_table.column_names %}
            {{ adapter.quote(column_name | string) }} {{ column_override.get(column_name, adapter.convert_type(agate_table, loop.index0)) }},
            {%- endfor %}
            source_row_number bigint
        )
        {{ file_format_clause() }}
    {%- endset -%}
    {%- call statement('_') -%}
        {{ sql }}
    {%- endcall -%}
    {{ return(sql) }}
{% endmacro %}

{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set batch_size = get_batch_size() -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for column_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(column_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(batch_size) -%}
        {%- set rows_before = (loop.index0 * batch_size) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                (
                {%- for value in row -%}
                    cast({{ spark_literal(value) }} as {{ types[loop.index0] }}),
                {%- endfor -%}
                {{ rows_before + loop.index }}
                ){{ ',' if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

{#-
    One seed value as a Spark SQL literal: null, true/false, a number as
    written, or a string (`sql_string`).
    Arguments: value - a value of an agate row (None, bool, Decimal or str)
-#}
{% macro spark_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is boolean -%}
        {{ 'true' if value else 'false' }}
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        {{ sql_string(value) }}
    {%- endif -%}
{%- endmacro %}

{#-
    Rows per insert statement of a seed on Spark: 1,000 instead of dbt's
    10,000, whose statement (one literal per value) ran a 1 GB Thrift
    server out of heap while it parsed.
-#}
{% macro spark__get_batch_size() -%}
    {{ return(1000) }}
{%- endmacro %}
