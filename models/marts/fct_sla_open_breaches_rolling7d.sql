{#-
    The oldest breaches still open at the end of the run's last as-of date's
    window, oldest first (at most var driver_list_length of them), with
    their age in minutes. Their number is fct_sla_breach_flow_rolling7d's
    open_breaches. Incremental, a run replaces its own as-of date.
-#}
{{
    config(**nightly_metrics.incremental_by_as_of_date(
        ['as_of_date', 'age_rank'],
        pre_hook=["{{ nightly_metrics.delete_listed_dates(last_only=true) }}"],
    ))
}}

with

open_breaches as (

    select
        as_of_date,
        conversation_id,
        breached_at,
        age_minutes,
        row_number() over (
            partition by as_of_date order by breached_at, conversation_id
        ) as age_rank
    from {{ ref('int_sla_breaches_at_window_end') }}
    where is_open

),

final as (

    select
        as_of_date,
        age_rank,
        conversation_id,
        breached_at,
        age_minutes
    from open_breaches
    where age_rank <= {{ var('driver_list_length') }}

)

select * from final
