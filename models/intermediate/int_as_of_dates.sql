{#-
    The as-of dates this run computes, one row each, with the bounds of their
    rolling window and of the escalation look-back. Windows are whole UTC
    days: [as_of_date - 7 days, as_of_date).
-#}
with

spine as (

    {{ nightly_metrics.as_of_date_spine(
        nightly_metrics.as_of_start(), nightly_metrics.as_of_end()
    ) }}

),

final as (

    select
        as_of_date,
        {{ nightly_metrics.add_days('as_of_date', -var('window_days')) }} as window_start_date,
        {{ nightly_metrics.add_days(
            'as_of_date', -(var('window_days') + var('escalation_lookback_days'))
        ) }} as lookback_start_date,
        {{ nightly_metrics.date_to_timestamp(
            nightly_metrics.add_days('as_of_date', -var('window_days'))
        ) }} as window_start_at,
        {{ nightly_metrics.date_to_timestamp('as_of_date') }} as window_end_at
    from spine

)

select * from final
