{#-
    For the two "DashboardFact" streams the missing-source-day check counts
    (dashboard sessions, escalation snapshots), whether the stream has any
    row before the first day this run reads. A stream's history counts from
    its first row (the contract: days before a stream's first row are never
    missing), and the run counts rows day by day only from that first read
    day on: this says whether the stream began earlier. The check
    (int_source_days_checked) answers it for the ops decisions itself, from
    stg_app__ops_decisions.

    One row per stream. It reads the rows that exist now, so a stream the
    application purges (escalation snapshots, after 14 days) begins at its
    oldest remaining row.
-#}
{%- set read_start = nightly_metrics.run_window_start(nightly_metrics.source_read_days()) -%}

with

fact_types_before as (

    {{ nightly_metrics.fact_types_with_rows_before(
        source('app', 'dashboard_fact'),
        [
            (nightly_metrics.fact_type_name('dashboard_session'), 'has_sessions_before'),
            (nightly_metrics.fact_type_name('escalation_snapshot'), 'has_escalation_snapshots_before'),
        ],
        read_start,
    ) }}

),

final as (

    select
        'dashboard_sessions' as stream,
        has_sessions_before as has_rows_before_read_window
    from fact_types_before
    union all
    select
        'escalation_snapshots' as stream,
        has_escalation_snapshots_before as has_rows_before_read_window
    from fact_types_before

)

select * from final
