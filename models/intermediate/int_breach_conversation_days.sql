{#-
    The earliest usable breach per conversation and snapshot day, over the
    run's whole read range. Small (conversations x days they were seen), and
    the one input both SLA figures need: an as-of date's breach for a
    conversation is the earliest of these over the days of its read window,
    computed only where a decision could resolve it
    (int_breaches_paired_to_resolutions); breachesSeen counts conversations
    per as-of date without listing them (int_sla_resolution_rolling7d).
-#}
with

final as (

    select
        conversation_id,
        fact_created_date,
        min(breached_at) as breached_at
    from {{ ref('int_breach_candidates_remembered') }}
    where
        is_usable
        and fact_created_at >= {{
            nightly_metrics.run_window_start(var('escalation_lookback_days'))
        }}
        and fact_created_at < {{ nightly_metrics.run_window_end() }}
    group by conversation_id, fact_created_date

)

select * from final
