{#-
    Chatwoot SLA resolution time per as-of date: over the breaches resolved
    inside the window, the median and 90th percentile of minutes from breach
    to resolution (percentile_cont, linear interpolation), rounded to 2
    decimals; null when no breach was resolved in the window.
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

pairs as (

    select
        as_of_date,
        conversation_id,
        resolution_minutes,
        is_in_sample
    from {{ ref('int_breaches_paired_to_resolutions') }}

),

rejected_days as (

    select
        cast(fact_created_at as date) as fact_created_date,
        count(*) as rejected_count
    from {{ ref('int_breach_candidates_rejected') }}
    where
        fact_created_at >= {{ nightly_metrics.run_window_start(var('escalation_lookback_days')) }}
        and fact_created_at < {{ nightly_metrics.run_window_end() }}
    group by cast(fact_created_at as date)

),

samples as (

    select
        as_of_date,
        count(*) as sample_size,
        {{ nightly_metrics.percentile_cont(0.5, 'resolution_minutes') }} as median_minutes,
        {{ nightly_metrics.percentile_cont(0.9, 'resolution_minutes') }} as p90_minutes
    from pairs
    where is_in_sample
    group by as_of_date

),

{#-
    breachesSeen: the conversations with a usable breach in an as-of date's
    read window, counted without listing them per date. A snapshot on day d
    is in the read window of the as-of dates d + 1 .. d + read_days, so each
    conversation's snapshot days, merged where less than read_days apart,
    give spans of as-of dates that see it; a running sum of +1 at each span's
    first date and -1 after its last counts the spans covering each date.
-#}
{%- set read_days = var('window_days') + var('escalation_lookback_days') %}

conversation_days as (

    select
        conversation_id,
        fact_created_date,
        case
            when
                lag(fact_created_date) over (
                    partition by conversation_id order by fact_created_date
                ) >= {{ nightly_metrics.add_days('fact_created_date', -read_days) }}
                then 0
            else 1
        end as starts_span
    from {{ ref('int_breach_conversation_days') }}

),

numbered_days as (

    select
        conversation_id,
        fact_created_date,
        sum(starts_span) over (
            partition by conversation_id
            order by fact_created_date
            rows between unbounded preceding and current row
        ) as span_number
    from conversation_days

),

spans as (

    select
        {{ nightly_metrics.add_days('min(fact_created_date)', 1) }} as first_as_of_date,
        {{ nightly_metrics.add_days('max(fact_created_date)', read_days + 1) }} as after_as_of_date
    from numbered_days
    group by conversation_id, span_number

),

seen_changes as (

    select
        first_as_of_date as change_date,
        1 as change
    from spans
    union all
    select
        after_as_of_date as change_date,
        -1 as change
    from spans
    union all
    select
        as_of_date as change_date,
        0 as change
    from as_of_dates

),

seen_running as (

    select
        change_date,
        sum(sum(change)) over (
            order by change_date rows between unbounded preceding and current row
        ) as breach_count
    from seen_changes
    group by change_date

),

breaches_seen as (

    select
        as_of_dates.as_of_date,
        seen_running.breach_count
    from as_of_dates
    inner join seen_running
        on as_of_dates.as_of_date = seen_running.change_date

),

rejections as (

    select
        as_of_dates.as_of_date,
        sum(rejected_days.rejected_count) as rejected_count
    from as_of_dates
    inner join rejected_days
        on
            rejected_days.fact_created_date >= as_of_dates.lookback_start_date
            and rejected_days.fact_created_date < as_of_dates.as_of_date
    group by as_of_dates.as_of_date

),

final as (

    select
        as_of_dates.as_of_date,
        coalesce(samples.sample_size, 0) as sample_size,
        coalesce(breaches_seen.breach_count, 0) as breaches_seen,
        coalesce(rejections.rejected_count, 0) as breach_candidates_rejected,
        {{ nightly_metrics.round_decimal('samples.median_minutes', 2) }} as median_minutes,
        {{ nightly_metrics.round_decimal('samples.p90_minutes', 2) }} as p90_minutes,
        as_of_dates.window_start_at,
        as_of_dates.window_end_at
    from as_of_dates
    left join samples
        on as_of_dates.as_of_date = samples.as_of_date
    left join breaches_seen
        on as_of_dates.as_of_date = breaches_seen.as_of_date
    left join rejections
        on as_of_dates.as_of_date = rejections.as_of_date

)

select * from final
