{#-
    The job's run history: one row per invocation of the runner that reached
    the database, inserted by the runner (nightly_metrics/history.py) when the
    run ends, whatever its outcome, in a transaction of its own. dbt only
    creates the table, empty, with the contract's columns, and tests it: an
    incremental build adds no row, and full_refresh = false keeps a
    `--full-refresh` from dropping the history. The runner creates the table
    from the same contract when a run fails before dbt ever built it.
-#}
{{ config(
    materialized='incremental',
    full_refresh=false,
    on_schema_change='append_new_columns',
    post_hook=["{{ nightly_metrics.drop_temporary_tables() }}"],
) }}

with

final as (

    select
        cast(null as text) as run_id,
        cast(null as text) as invocation_id,
        cast(null as text) as command,
        cast(null as text) as status,
        cast(null as text) as problems,
        cast(null as text) as project_version,
        cast(null as text) as dbt_version,
        cast(null as integer) as exit_code,
        cast(null as integer) as facts_written,
        cast(null as integer) as facts_withheld,
        cast(null as integer) as facts_kept,
        cast(null as integer) as breach_elements_rejected,
        cast(null as numeric(10, 2)) as elapsed_seconds,
        cast(null as jsonb) as rows_read,
        cast(null as jsonb) as windows,
        cast(null as date) as as_of_start_date,
        cast(null as date) as as_of_end_date,
        cast(null as timestamp) as started_at,
        cast(null as timestamp) as finished_at

)

select * from final
where false
