{#-
    How the SLA's breaches moved in the run's last as-of date E's window:
    breaches that came in (their breach falls in the window) against the
    window 7 days earlier, those resolved in the window (the fact's sample),
    and those still open at its end, with the oldest of them listed in
    fct_sla_open_breaches_rolling7d. One row per as-of date that was a run's
    last; incremental, a run replaces its own.
-#}
{{
    config(**nightly_metrics.incremental_by_as_of_date(
        ['as_of_date']
    ))
}}
{%- set window_days = var('window_days') %}

with

last_as_of as (

    select
        as_of_date,
        window_start_at,
        window_end_at,
        sample_size
    from {{ ref('int_sla_resolution_rolling7d') }}
    where as_of_date = cast('{{ nightly_metrics.as_of_end() }}' as date)

),

breaches as (

    select
        conversation_id,
        cast(breached_at as date) as breached_date,
        is_open
    from {{ ref('int_sla_breaches_at_window_end') }}

),

flow as (

    select
        count(case
            when
                breached_date
                >= {{ nightly_metrics.add_days('last_as_of.as_of_date', -window_days) }}
                then 1
        end) as breaches_in,
        count(case
            when
                breached_date
                >= {{ nightly_metrics.add_days('last_as_of.as_of_date', -2 * window_days) }}
                and breached_date
                < {{ nightly_metrics.add_days('last_as_of.as_of_date', -window_days) }}
                then 1
        end) as breaches_in_7d_earlier,
        count(case when is_open then 1 end) as open_breaches
    from breaches
    cross join last_as_of

),

final as (

    select
        last_as_of.as_of_date,
        last_as_of.window_start_at,
        last_as_of.window_end_at,
        flow.breaches_in,
        flow.breaches_in_7d_earlier,
        last_as_of.sample_size as breaches_resolved,
        flow.open_breaches
    from last_as_of
    cross join flow

)

select * from final
