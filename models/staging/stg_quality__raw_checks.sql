{#-
    The JSON file at $METANPROM_QUALITY_RESULTS_PATH (or var
    `quality_results_path`) is written by `metanprom run`
    before `dbt build` starts, once its raw gate has passed. Its keys are CheckResult's fields (metanprom.ingest.quality).
    The variable is read when the model runs (`run_env_var`): a new path re-parses nothing.
-#}
{%- set path = run_env_var('METANPROM_QUALITY_RESULTS_PATH') or var('quality_results_path', none) -%}

with

checks as (

    -- the raw gate's results; when no gate ran (a plain `dbt build`), no rows with the same columns
    {% if path -%}
        select * from {{ quality_results_rows(path) }}
    {%- else -%}
        {{ no_rows({
            'layer': 'string',
            'dataset': 'string',
            adapter.quote('check'): 'string',
            adapter.quote('column'): 'string',
            'severity': 'string',
            'success': 'boolean',
            'unexpected_count': 'bigint',
            'observed': 'string',
        }, none) }}
    {%- endif %}

),

renamed as (

    select
        layer,
        dataset,
        {{ adapter.quote('check') }} as check_name,
        {{ adapter.quote('column') }} as column_name,
        severity,
        success,
        unexpected_count,
        observed

    from checks

)

select * from renamed
