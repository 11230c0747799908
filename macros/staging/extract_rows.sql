{#-
    The rows of a user's extract file, every value as text, as a relation to
    select from, read by the engine itself in place.

    DuckDB: read_csv over the path. Spark: its CSV reader, through a
    temporary view made when the model runs (any path or URI Spark reads:
    a local path, hdfs://, s3a://), with `source_row_number`, the row's
    position in the file, added (DuckDB numbers the staged table's rows by
    their rowid instead, in `numbered_staged_rows`).

    Arguments:
      extract - the extract format (names Spark's temporary view)
      path    - the file's path or URI
-#}
{% macro extract_rows(extract, path) -%}
    {{ return(adapter.dispatch('extract_rows', 'metanprom')(extract, path)) }}
{%- endmacro %}

{% macro default__extract_rows(extract, path) -%}
    read_csv({{ sql_string(path) }}, header = true, all_varchar = true, null_padding = true)
{%- endmacro %}

{% macro spark__extract_rows(extract, path) -%}
    {%- set view = 'metanprom_extract_' ~ extract -%}
    {%- if execute -%}
        {%- do run_query(
            'create or replace temporary view ' ~ view ~ ' using csv options (path ' ~ sql_string(path)
            ~ ", header 'true', inferSchema 'false', mode 'PERMISSIVE', encoding 'UTF-8')"
        ) -%}
    {%- endif -%}
    {#- monotonically_increasing_id: the partition in its upper bits, the row within it in the lower 33;
        a file's partitions follow its byte order, so each partition's first row number is the
        rows of the partitions before it plus one -#}
    (
        with

        positioned as (
            select
                *,
                monotonically_increasing_id() as metanprom_position
            from {{ view }}
        ),

        partitions as (
            select
                shiftright(metanprom_position, 33) as metanprom_partition,
                count(*) as partition_rows
            from positioned
            group by shiftright(metanprom_position, 33)
        ),

        starts as (
            select
                metanprom_partition,
                coalesce(sum(partition_rows) over (
                    order by metanprom_partition rows between unbounded preceding and 1 preceding
                ), 0) as rows_before
            from partitions
        )

        select
            positioned.*,
            starts.rows_before
            + (positioned.metanprom_position - shiftleft(starts.metanprom_partition, 33))
            + 1 as source_row_number
        from positioned
        inner join starts
            on shiftright(positioned.metanprom_position, 33) = starts.metanprom_partition
    )
{%- endmacro %}

{#-
    The row-number column a staged extract carries through its CTEs, with its
    trailing comma: `source_row_number,` on Spark (from `extract_rows` or
    the seed table, which keeps no row order of its own), nothing on DuckDB
    (`numbered_staged_rows` reads the staged table's rowid).
-#}
{% macro carried_row_number() -%}
    {{ return(adapter.dispatch('carried_row_number', 'metanprom')()) }}
{%- endmacro %}

{% macro default__carried_row_number() -%}
{%- endmacro %}

{% macro spark__carried_row_number() -%}
    source_row_number,
{%- endmacro %}

{#-
    Every row of a staged extract with `source_row_number`, its position in
    the file. DuckDB: the staged table's rowid, which keeps the file's order
    (numbering with row_number() over () would push every raw value through
    one thread). Spark: the column the staging carried.
    Arguments: relation - the staged extract (a ref)
-#}
{% macro numbered_staged_rows(relation) -%}
    {{ return(adapter.dispatch('numbered_staged_rows', 'metanprom')(relation)) }}
{%- endmacro %}

{% macro default__numbered_staged_rows(relation) -%}
    select
        *,
        rowid + 1 as source_row_number
    from {{ relation }}
{%- endmacro %}

{% macro spark__numbered_staged_rows(relation) -%}
    select * from {{ relation }}
{%- endmacro %}

{#-
    The raw gate's check results (the JSON file `metanprom run` writes before
    dbt starts: a list of CheckResult objects), typed, as a relation.
    DuckDB: read_json. Spark: its JSON reader, through a temporary view.
    Arguments: path - the file's path
-#}
{% macro quality_results_rows(path) -%}
    {{ return(adapter.dispatch('quality_results_rows', 'metanprom')(path)) }}
{%- endmacro %}

{% macro default__quality_results_rows(path) -%}
    read_json(
        {{ sql_string(path) }},
        columns = {
            layer: 'string',
            dataset: 'string',
            "check": 'string',
            "column": 'string',
            severity: 'string',
            success: 'boolean',
            unexpected_count: 'bigint',
            observed: 'string'
        }
    )
{%- endmacro %}

{% macro spark__quality_results_rows(path) -%}
    {%- if execute -%}
        {%- do run_query(
            'create or replace temporary view metanprom_raw_checks (layer string, dataset string, `check` string, '
            ~ '`column` string, severity string, success boolean, unexpected_count bigint, observed string) '
            ~ "using json options (path " ~ sql_string(path) ~ ", multiLine 'true')"
        ) -%}
    {%- endif -%}
    metanprom_raw_checks
{%- endmacro %}
