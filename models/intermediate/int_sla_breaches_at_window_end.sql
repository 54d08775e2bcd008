{#-
    Every breach of the run's last as-of date E, as the window ending E sees
    it: per conversation with a usable breach in E's read window (the
    look-back and the window), its breach (the earliest those snapshots
    give), its resolution (the first ops decision naming it at or after the
    breach, before E) and whether it is still open at E, with its age. For
    the last as-of date only, the window a standup discusses: listing every
    open breach for every date of a backfill would grow with dates x open
    breaches (most breaches are never resolved in some shops).
-#}
{%- set read_days = var('window_days') + var('escalation_lookback_days') %}

with

last_as_of as (

    select
        as_of_date,
        window_start_at,
        window_end_at
    from {{ ref('int_as_of_dates') }}
    where as_of_date = cast('{{ nightly_metrics.as_of_end() }}' as date)

),

conversation_days as (

    select
        conversation_id,
        fact_created_date,
        breached_at
    from {{ ref('int_breach_conversation_days') }}

),

breaches as (

    select
        conversation_days.conversation_id,
        min(conversation_days.breached_at) as breached_at
    from conversation_days
    cross join last_as_of
    where
        conversation_days.fact_created_date
        >= {{ nightly_metrics.add_days('last_as_of.as_of_date', -read_days) }}
        and conversation_days.fact_created_date < last_as_of.as_of_date
    group by conversation_days.conversation_id

),

decisions as (

    select
        resolved_conversation_id as conversation_id,
        created_at
    from {{ ref('stg_app__ops_decisions') }}
    where
        resolved_conversation_id is not null
        and created_at >= (select min(breaches.breached_at) as first_breached_at from breaches)
        and created_at < {{ nightly_metrics.run_window_end() }}

),

resolutions as (

    select
        breaches.conversation_id,
        min(decisions.created_at) as resolved_at
    from breaches
    inner join decisions
        on
            breaches.conversation_id = decisions.conversation_id
            and decisions.created_at >= breaches.breached_at
    cross join last_as_of
    where decisions.created_at < last_as_of.window_end_at
    group by breaches.conversation_id

),

final as (

    select
        last_as_of.as_of_date,
        breaches.conversation_id,
        breaches.breached_at,
        resolutions.resolved_at,
        resolutions.resolved_at is null as is_open,
        {{ nightly_metrics.minutes_between('breaches.breached_at', 'last_as_of.window_end_at') }}
            as age_minutes
    from breaches
    cross join last_as_of
    left join resolutions
        on breaches.conversation_id = resolutions.conversation_id
    where breaches.breached_at < last_as_of.window_end_at

)

select * from final
