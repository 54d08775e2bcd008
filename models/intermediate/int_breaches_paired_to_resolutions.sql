{#-
    Each breach that a decision inside its as-of date's window may resolve,
    with its resolution: the earliest ops decision referencing
    `chatwoot:<conversation id>` at or after the breach. The breach is the
    earliest one the snapshots of that date's read window (the look-back
    before the window, plus the window) give for the conversation. A decision
    logged before the breach does not resolve it. The breach is in the date's
    sample when its resolution falls inside the window.

    Only breaches that a decision in the window references can be in a
    sample, so the model starts from those decisions: each falls in the
    windows of 7 as-of dates. Listing every (as-of date, conversation) seen
    instead would grow with dates x open breaches (14 million rows for a
    365-day backfill at 1,300 shops where most breaches are never resolved).
-#}
with

as_of_dates as (

    select
        as_of_date,
        lookback_start_date,
        window_start_at,
        window_end_at
    from {{ ref('int_as_of_dates') }}

),

conversation_days as (

    select
        conversation_id,
        fact_created_date,
        breached_at
    from {{ ref('int_breach_conversation_days') }}

),

{# From the earliest breach (a decision may resolve one from then on) or the first
    window (where the candidates come from), whichever comes first: never the
    table's whole history. A decision before a breach is no resolution of it: on
    the time line below it comes after the breach. -#}
conversation_decisions as (

    select
        resolved_conversation_id as conversation_id,
        created_at
    from {{ ref('stg_app__ops_decisions') }}
    where
        resolved_conversation_id is not null
        and created_at >= least(
            (
                select min(conversation_days.breached_at) as first_breached_at
                from conversation_days
            ),
            {{ nightly_metrics.run_window_start() }}
        )
        and created_at < {{ nightly_metrics.run_window_end() }}

),

{# A decision on day d is inside the windows of the as-of dates d + 1 .. d + 7. -#}
candidates as (

    select distinct
        as_of_dates.as_of_date,
        conversation_decisions.conversation_id
    from conversation_decisions
    cross join ({{ nightly_metrics.day_offsets(var('window_days')) }}) as offsets
    inner join as_of_dates
        on
            {{ nightly_metrics.add_days(
                'cast(conversation_decisions.created_at as date)', 'offsets.day_offset + 1'
            ) }} = as_of_dates.as_of_date
    where conversation_decisions.created_at >= {{ nightly_metrics.run_window_start() }}

),

breaches as (

    select
        candidates.as_of_date,
        candidates.conversation_id,
        as_of_dates.window_start_at,
        as_of_dates.window_end_at,
        min(conversation_days.breached_at) as breached_at
    from candidates
    inner join as_of_dates
        on candidates.as_of_date = as_of_dates.as_of_date
    inner join conversation_days
        on
            candidates.conversation_id = conversation_days.conversation_id
            and conversation_days.fact_created_date >= as_of_dates.lookback_start_date
            and conversation_days.fact_created_date < as_of_dates.as_of_date
    group by
        candidates.as_of_date,
        candidates.conversation_id,
        as_of_dates.window_start_at,
        as_of_dates.window_end_at

),

{#
    Each breach and every decision that may resolve one, on one time line per
    conversation, newest first: the running minimum of decision times down to a
    breach is its first decision at or after it (a decision at the breach's very
    time sorts before it here, so it counts; NULLs first on every engine, as
    PostgreSQL's DESC puts them, though a usable breach always has a time).
    One sort whatever the planner estimates: a join on conversation and time
    ran as a nested loop over every pair (1.8 s for 1,295 breaches and 15,150
    decisions at 10 million rows).
-#}
timeline as (

    select
        as_of_date,
        window_start_at,
        window_end_at,
        conversation_id,
        breached_at as happened_at,
        0 as is_decision
    from breaches
    union all
    select
        cast(null as date) as as_of_date,
        cast(null as {{ dbt.type_timestamp() }}) as window_start_at,
        cast(null as {{ dbt.type_timestamp() }}) as window_end_at,
        conversation_id,
        created_at as happened_at,
        1 as is_decision
    from conversation_decisions

),

timeline_resolutions as (

    select
        as_of_date,
        window_start_at,
        window_end_at,
        conversation_id,
        is_decision,
        happened_at as breached_at,
        min(case when is_decision = 1 then happened_at end) over (
            partition by conversation_id
            order by happened_at desc nulls first, is_decision desc
            rows between unbounded preceding and current row
        ) as resolved_at
    from timeline

),

{# Each breach's row carries its window, so nothing joins the as-of dates again. -#}
final as (

    select
        as_of_date,
        conversation_id,
        {{ nightly_metrics.minutes_between('breached_at', 'resolved_at') }} as resolution_minutes,
        coalesce(
            resolved_at >= window_start_at and resolved_at < window_end_at, false
        ) as is_in_sample,
        breached_at,
        resolved_at
    from timeline_resolutions
    where is_decision = 0

)

select * from final
