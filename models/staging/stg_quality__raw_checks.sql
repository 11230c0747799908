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

        {{ no_rows({
            'layer': 'varchar',
            'dataset': 'varchar',
            'check_name': 'varchar',
            'column_name': 'varchar',
            'severity': 'varchar',
            'success': 'boolean',
            'unexpected_count': 'bigint',
            'observed': 'varchar',
        }, '(select 1)') }}
    {%- endif %}

)

select * from checks
