{#-
    What moved Chatwoot SLA resolution time, per as-of date: the window's
    slowest resolved breaches, slowest first (at most var driver_list_length
    of them), from the per-breach pairing whose in-window rows are exactly
    the fact's sample (int_breaches_paired_to_resolutions: its rows with
    is_in_sample are sampleSize, and their percentiles the fact's). Ties on
    minutes go to the earlier breach, then the lower conversation id.
    Incremental like fct_ops_metrics_rolling7d: a run replaces its own
    as-of dates.
-#}
{{
    config(**nightly_metrics.incremental_by_as_of_date(
        ['as_of_date', 'slowness_rank'],
        pre_hook=["{{ nightly_metrics.delete_listed_dates(last_only=false) }}"],
    ))
}}

with

sample as (

    select
        as_of_date,
        conversation_id,
        breached_at,
        resolved_at,
        resolution_minutes
    from {{ ref('int_breaches_paired_to_resolutions') }}
    where is_in_sample

),

ranked as (

    select
        as_of_date,
        conversation_id,
        breached_at,
        resolved_at,
        resolution_minutes,
        row_number() over (
            partition by as_of_date
            order by resolution_minutes desc, breached_at, conversation_id
        ) as slowness_rank
    from sample

),

final as (

    select
        as_of_date,
        slowness_rank,
        conversation_id,
        breached_at,
        resolved_at,
        resolution_minutes
    from ranked
    where slowness_rank <= {{ var('driver_list_length') }}

)

select * from final
