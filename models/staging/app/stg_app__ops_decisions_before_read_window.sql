{#-
    Whether the ops decisions stream ("DecisionLog" rows with scope 'ops') has
    any row before the first day this run reads: the missing-source-day
    check's answer for that stream, as stg_app__fact_streams_before_read_window
    gives it for the "DashboardFact" streams. One row; the "createdAt" index
    finds the first old row, if any, and stops there.
-#}
{%- set read_start = nightly_metrics.run_window_start(nightly_metrics.source_read_days()) -%}

with

first_decision_before as (

    select 1 as found
    from {{ source('app', 'decision_log') }}
    where
        scope = 'ops'
        and {{ adapter.quote('createdAt') }} < {{ read_start }}
    limit 1

),

final as (

    select
        'ops_decisions' as stream,
        count(*) > 0 as has_rows_before_read_window
    from first_decision_before

)

select * from final
