{#-
    The raw-extract data-quality checks (Great Expectations) that `metanprom
    run` wrote before the build, read from the JSON file in var
    `quality_results_path`; empty when dbt runs without it.
-#}
{%- set path = var('quality_results_path', none) -%}

with

checks as (

    {%- if path %}

        select
            layer,
            dataset,
            "check" as check_name,
            "column" as column_name,
            severity,
            success,
            unexpected_count,
            observed
        from read_json(
            '{{ path | replace("'", "''") }}',
            columns = {
                layer: 'varchar', dataset: 'varchar', "check": 'varchar', "column": 'varchar',
                severity: 'varchar', success: 'boolean', unexpected_count: 'bigint', observed: 'varchar'
            }
        )
    {%- else %}

        select
            cast(null as varchar) as layer,
            cast(null as varchar) as dataset,
            cast(null as varchar) as check_name,
            cast(null as varchar) as column_name,
            cast(null as varchar) as severity,
            cast(null as boolean) as success,
            cast(null as bigint) as unexpected_count,
            cast(null as varchar) as observed
        where false
    {%- endif %}

)

select * from checks
