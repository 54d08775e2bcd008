{#-
    Rows per source stream and UTC day, over the days this run's windows
    read (the as-of range and, before it, the escalation look-back or the
    missing-day check's 28-day baseline, whichever is longer), counted from
    the rows that exist now: dashboard sessions, escalation snapshots and
    ops decisions, the three streams the KPIs read. Days without rows have no
    row. Feeds the missing-source-day check and each fact's sourceRowsRead.
-#}
{%- set read_start = nightly_metrics.run_window_start(nightly_metrics.source_read_days()) -%}
{%- set read_window -%}
    created_at >= {{ read_start }}
    and created_at < {{ nightly_metrics.run_window_end() }}
{%- endset %}

with

sessions as (

    select session_date as row_date
    from {{ ref('stg_app__dashboard_sessions') }}
    where {{ read_window }}

),

escalation_snapshots as (

    select snapshot_date as row_date
    from {{ ref('stg_app__escalation_snapshots') }}
    where {{ read_window }}

),

ops_decisions as (

    select decision_date as row_date
    from {{ ref('stg_app__ops_decisions') }}
    where {{ read_window }}

),

stream_rows as (

    select
        'dashboard_sessions' as stream,
        row_date
    from sessions
    union all
    select
        'escalation_snapshots' as stream,
        row_date
    from escalation_snapshots
    union all
    select
        'ops_decisions' as stream,
        row_date
    from ops_decisions

),

final as (

    select
        stream,
        row_date,
        count(*) as row_count
    from stream_rows
    group by stream, row_date

)

select * from final
