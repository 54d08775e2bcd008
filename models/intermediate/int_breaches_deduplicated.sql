{#-
    One breach per conversation and as-of date: the earliest usable breachedAt
    among the escalation snapshots recorded in that date's read window (the
    look-back before the window, plus the window). A conversation repeated in
    many snapshots is one breach.
-#}
with

as_of_dates as (

    select
        as_of_date,
        lookback_start_date
    from {{ ref('int_as_of_dates') }}

),

{# Earliest breach per conversation and snapshot day, before fanning out to dates. -#}
conversation_days as (

    select
        conversation_id,
        fact_created_date,
        min(breached_at) as breached_at
    from {{ ref('stg_app__escalation_breach_candidates') }}
    where
        is_usable
        and fact_created_at >= {{
            nightly_metrics.run_window_start(var('escalation_lookback_days'))
        }}
        and fact_created_at < {{ nightly_metrics.run_window_end() }}
    group by conversation_id, fact_created_date

),

final as (

    select
        as_of_dates.as_of_date,
        conversation_days.conversation_id,
        min(conversation_days.breached_at) as breached_at
    from as_of_dates
    inner join conversation_days
        on
            conversation_days.fact_created_date >= as_of_dates.lookback_start_date
            and conversation_days.fact_created_date < as_of_dates.as_of_date
    group by as_of_dates.as_of_date, conversation_days.conversation_id

)

select * from final
