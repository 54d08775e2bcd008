{#-
    Each breach with its resolution: the earliest ops decision referencing
    `chatwoot:<conversation id>` at or after the breach. A decision logged
    before the breach does not resolve it. The breach is in its as-of date's
    sample when that resolution falls inside the window.
-#}
with

as_of_dates as (

    select
        as_of_date,
        window_start_at,
        window_end_at
    from {{ ref('int_as_of_dates') }}

),

breaches as (

    select
        as_of_date,
        conversation_id,
        breached_at
    from {{ ref('int_breaches_deduplicated') }}

),

resolving_decisions as (

    select
        resolved_conversation_id,
        created_at
    from {{ ref('stg_app__ops_decisions') }}
    where
        resolved_conversation_id is not null
        and created_at >= (select min(breaches.breached_at) as first_breached_at from breaches)
        and created_at < {{ nightly_metrics.run_window_end() }}

),

first_resolutions as (

    select
        breaches.as_of_date,
        breaches.conversation_id,
        breaches.breached_at,
        min(resolving_decisions.created_at) as resolved_at
    from breaches
    left join resolving_decisions
        on
            breaches.conversation_id = resolving_decisions.resolved_conversation_id
            and resolving_decisions.created_at >= breaches.breached_at
    group by breaches.as_of_date, breaches.conversation_id, breaches.breached_at

),

final as (

    select
        first_resolutions.as_of_date,
        first_resolutions.conversation_id,
        {{ nightly_metrics.minutes_between(
            'first_resolutions.breached_at', 'first_resolutions.resolved_at'
        ) }} as resolution_minutes,
        coalesce(
            first_resolutions.resolved_at >= as_of_dates.window_start_at
            and first_resolutions.resolved_at < as_of_dates.window_end_at,
            false
        ) as is_in_sample,
        first_resolutions.breached_at,
        first_resolutions.resolved_at
    from first_resolutions
    inner join as_of_dates
        on first_resolutions.as_of_date = as_of_dates.as_of_date

)

select * from final
