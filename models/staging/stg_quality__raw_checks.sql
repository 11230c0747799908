{#-
    The JSON file at $METANPROM_QUALITY_RESULTS_PATH (or var
    `quality_results_path`) is written by `metanprom run`
    before `dbt build` starts, once its raw gate has passed. Its keys are CheckResult's fields (metanprom.ingest.quality).
-#}
{%- set path = env_var('METANPROM_QUALITY_RESULTS_PATH', '') or var('quality_results_path', none) -%}

with

checks as (

    {% if path -%}
        select * from read_json(
            {{ sql_string(path) }},
            columns = {
                layer: 'varchar',
                dataset: 'varchar',
                "check": 'varchar',
                "column": 'varchar',
                severity: 'varchar',
                success: 'boolean',
                unexpected_count: 'bigint',
                observed: 'varchar'
            }
        )
    {%- else -%}
        -- no gate ran (a plain `dbt build`): no rows, the same columns
        select
            null::varchar as layer,
            null::varchar as dataset,
            null::varchar as "check",
            null::varchar as "column",
            null::varchar as severity,
            null::boolean as success,
            null::bigint as unexpected_count,
            null::varchar as observed
        where false
    {%- endif %}

),

renamed as (

    select
        layer,
        dataset,
        "check" as check_name,
        "column" as column_name,
        severity,
        success,
        unexpected_count,
        observed

    from checks

)

select * from renamed
