{{ config(materialized='table') }}

{{ stage_extract('bank_dataset') }}
