{#-
    Fails with one row per source day that never arrived in the windows of
    this run's facts: a UTC day of the window on which `stream` has no rows
    although its own recent volume makes an empty day implausible (see
    int_source_days_checked, passed as `checked_days`). Each row names the
    as-of date, the day and the volume the stream had over its baseline.

    Attached to the marts model rather than to the sources on purpose: under
    `dbt build` a failing test skips everything downstream of what it tests,
    and the marts model already withholds only the fact that reads the
    stream (its write_action), so the other fact of the window is still
    written. Severity comes from the var allow_missing_days (warn when set).

    Arguments: stream (a name of the var source_streams; any other is a
    compiler error) and checked_days (a relation like
    int_source_days_checked).
-#}
{% test source_days_arrived(model, stream, checked_days) %}
{%- do nightly_metrics.source_stream(stream) %}

with

facts_of_this_run as (

    select distinct as_of_date
    from {{ model }}
    where
        as_of_date >= cast('{{ nightly_metrics.as_of_start() }}' as date)
        and as_of_date <= cast('{{ nightly_metrics.as_of_end() }}' as date)

),

missing_days as (

    select
        as_of_date,
        stream,
        window_day,
        expected_daily_rows,
        history_days
    from {{ checked_days }}
    where
        stream = '{{ stream }}'
        and is_missing

),

final as (

    select
        missing_days.as_of_date,
        missing_days.stream,
        missing_days.window_day as missing_day,
        missing_days.expected_daily_rows,
        missing_days.history_days,
        'no ' || missing_days.stream || ' rows on '
        || cast(missing_days.window_day as {{ dbt.type_string() }})
        || ', against ' || cast(missing_days.expected_daily_rows as {{ dbt.type_string() }})
        || ' a day over the ' || cast(missing_days.history_days as {{ dbt.type_string() }})
        || ' days before the window' as failure_message
    from missing_days
    inner join facts_of_this_run
        on missing_days.as_of_date = facts_of_this_run.as_of_date

)

select * from final

{% endtest %}
