{#-
    For each source stream the missing-source-day check counts (dashboard
    sessions, escalation snapshots, ops decisions), whether it has any row
    before the first day this run reads. A stream's history counts from its
    first row (the contract: days before a stream's first row are never
    missing), and the run counts rows day by day only from that first read
    day on: this says whether the stream began earlier.

    One row per stream. It reads the rows that exist now, so a stream the
    application purges (escalation snapshots, after 14 days) begins at its
    oldest remaining row.
-#}
{%- set read_start = nightly_metrics.run_window_start(nightly_metrics.source_read_days()) -%}

with

dashboard_fact_streams as (

    {{ nightly_metrics.fact_types_with_rows_before(
        source('app', 'dashboard_fact'),
        [
            ('dashboard.session.opened', 'has_sessions_before'),
            ('chatwoot.escalations', 'has_escalation_snapshots_before'),
        ],
        read_start,
    ) }}

),

ops_decisions_before as (

    select count(*) > 0 as has_rows
    from (
        select 1 as found
        from {{ source('app', 'decision_log') }}
        where
            scope = 'ops'
            and {{ adapter.quote('createdAt') }} < {{ read_start }}
        limit 1
    ) as first_decision

),

final as (

    select
        'dashboard_sessions' as stream,
        has_sessions_before as has_rows_before_read_window
    from dashboard_fact_streams
    union all
    select
        'escalation_snapshots' as stream,
        has_escalation_snapshots_before as has_rows_before_read_window
    from dashboard_fact_streams
    union all
    select
        'ops_decisions' as stream,
        has_rows as has_rows_before_read_window
    from ops_decisions_before

)

select * from final
