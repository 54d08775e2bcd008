{#-
    The missing-source-day check, one row per as-of date, source stream and
    UTC day of the window. A day without rows is normal for a small store
    base (the application records sessions and escalation snapshots only
    when someone opens its dashboard), so a day is *missing* only when the
    stream's own recent volume makes an empty day implausible: it has no rows
    that day, and over the baseline (the 28 UTC days before the window,
    counting only days on or after the stream's first row, and only when
    there are at least 7 such days) it averaged at least 10 rows a day. The
    three numbers are the vars missing_day_baseline_days,
    missing_day_min_history_days and missing_day_min_daily_rows.
-#}
{%- set baseline_days = var('missing_day_baseline_days') -%}
{%- set read_start_day = nightly_metrics.run_first_day(nightly_metrics.source_read_days()) -%}

with

as_of_dates as (

    select
        as_of_date,
        window_start_date
    from {{ ref('int_as_of_dates') }}

),

stream_days as (

    select
        stream,
        row_date,
        row_count
    from {{ ref('int_source_stream_days') }}

),

{# Whether each stream has rows before the first day this run reads, each
    answered by a cheap index lookup. #}
fact_streams_before as (

    select
        stream,
        has_rows_before_read_window
    from {{ ref('stg_app__fact_streams_before_read_window') }}

),

{# Each other stream (not of "DashboardFact"): its first row before that
    day, if any ("createdAt" index). #}
{% for name, stream in nightly_metrics.source_streams().items()
    if not stream.get('fact_type') %}
    {{ name }}_before as (

        select
            '{{ name }}' as stream,
            count(*) > 0 as has_rows_before_read_window
        from (
            select created_at
            from {{ ref(stream['model']) }}
            where
                created_at
                < {{ nightly_metrics.timestamp_literal(read_start_day) }}
            limit 1
        ) as first_row_before

    ),

{% endfor -%}
earlier_rows as (

    select * from fact_streams_before
    {%- for name, stream in nightly_metrics.source_streams().items()
        if not stream.get('fact_type') %}
        union all
        select * from {{ name }}_before
    {%- endfor %}

),

{# A stream that has rows before the first day this run reads began before
    every baseline: the day before that first day stands for its first row. #}
first_days as (

    select
        earlier_rows.stream,
        case
            when earlier_rows.has_rows_before_read_window
                then {{ nightly_metrics.add_days(
                    "cast('" ~ read_start_day ~ "' as date)", -1
                ) }}
            else min(stream_days.row_date)
        end as first_row_date
    from earlier_rows
    left join stream_days
        on
            earlier_rows.stream = stream_days.stream
            and stream_days.row_count > 0
    group by earlier_rows.stream, earlier_rows.has_rows_before_read_window

),

{# The baseline's days on or after the stream's first row. #}
baselines as (

    select
        as_of_dates.as_of_date,
        as_of_dates.window_start_date,
        first_days.stream,
        case
            when first_days.first_row_date is null then 0
            else greatest(
                0,
                least(
                    {{ baseline_days }},
                    {{ nightly_metrics.days_between(
                        'first_days.first_row_date', 'as_of_dates.window_start_date'
                    ) }}
                )
            )
        end as history_days
    from as_of_dates
    cross join first_days

),

baseline_rows as (

    select
        baselines.as_of_date,
        baselines.stream,
        cast(sum(stream_days.row_count) as {{ dbt.type_bigint() }}) as row_count
    from baselines
    inner join stream_days
        on
            baselines.stream = stream_days.stream
            and stream_days.row_date >= {{ nightly_metrics.add_days(
                'baselines.window_start_date', '-baselines.history_days'
            ) }}
            and stream_days.row_date < baselines.window_start_date
    group by baselines.as_of_date, baselines.stream

),

judged as (

    select
        baselines.as_of_date,
        baselines.window_start_date,
        baselines.stream,
        baselines.history_days,
        coalesce(baseline_rows.row_count, 0) as baseline_row_count,
        (
            baselines.history_days >= {{ var('missing_day_min_history_days') }}
            and coalesce(baseline_rows.row_count, 0)
            >= {{ var('missing_day_min_daily_rows') }} * baselines.history_days
        ) as is_stream_judged
    from baselines
    left join baseline_rows
        on
            baselines.as_of_date = baseline_rows.as_of_date
            and baselines.stream = baseline_rows.stream

),

window_days as (

    select
        judged.as_of_date,
        judged.stream,
        {{ nightly_metrics.add_days('judged.window_start_date', 'offsets.day_offset') }}
            as window_day,
        judged.history_days,
        judged.baseline_row_count,
        judged.is_stream_judged
    from judged
    cross join ({{ nightly_metrics.day_offsets(var('window_days')) }}) as offsets

),

final as (

    select
        window_days.as_of_date,
        window_days.stream,
        window_days.window_day,
        coalesce(stream_days.row_count, 0) as row_count,
        window_days.baseline_row_count,
        window_days.history_days,
        case
            when window_days.history_days > 0
                then {{ nightly_metrics.round_decimal(
                    nightly_metrics.cast_numeric('window_days.baseline_row_count')
                    ~ ' / window_days.history_days', 1
                ) }}
        end as expected_daily_rows,
        window_days.is_stream_judged,
        (
            window_days.is_stream_judged and coalesce(stream_days.row_count, 0) = 0
        ) as is_missing
    from window_days
    left join stream_days
        on
            window_days.stream = stream_days.stream
            and window_days.window_day = stream_days.row_date

)

select * from final
