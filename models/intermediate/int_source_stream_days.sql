{#-
    Rows per source stream and UTC day: dashboard sessions, escalation
    snapshots and ops decisions, the three streams the KPIs read. The
    missing-source-day check compares each window day with the stream's own
    recent volume, and each fact records how many source rows it read.

    Incremental: the first build counts the whole history once; every run
    (re)counts each day its windows read (the as-of range, the escalation
    look-back or the check's 28-day baseline before it, whichever is longer),
    zero-row days included, and keeps older days as they were counted. So a
    stream's first day stays known after the application purges old rows
    (escalation snapshots after 14 days), and a nightly run reads only the
    days it needs. A transaction-level lock (the pre-hook) makes two
    concurrent builds take turns, so a day is never stored twice. Spark
    rebuilds the table each run (no delete+insert).
-#}
{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        unique_key=['stream', 'row_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook=([] if target.type == 'spark' else [
            "select pg_advisory_xact_lock(hashtext('nightly_metrics.int_source_stream_days'))"
        ]),
        post_hook=["{{ nightly_metrics.drop_temporary_tables() }}"],
    )
}}

{%- set first_day = nightly_metrics.run_first_day(nightly_metrics.source_read_days()) -%}
{%- set last_day = modules.datetime.datetime.strptime(nightly_metrics.as_of_end(), '%Y-%m-%d')
    - modules.datetime.timedelta(days=1) -%}
{%- set read_window_only -%}
    {%- if is_incremental() %}
    where
        created_at >= {{ nightly_metrics.timestamp_literal(first_day) }}
        and created_at < {{ nightly_metrics.run_window_end() }}
    {%- endif -%}
{%- endset %}

with

sessions as (

    select session_date as row_date
    from {{ ref('stg_app__dashboard_sessions') }}
    {{- read_window_only }}

),

escalation_snapshots as (

    select snapshot_date as row_date
    from {{ ref('stg_app__escalation_snapshots') }}
    {{- read_window_only }}

),

ops_decisions as (

    select decision_date as row_date
    from {{ ref('stg_app__ops_decisions') }}
    {{- read_window_only }}

),

stream_rows as (

    select
        'dashboard_sessions' as stream,
        row_date
    from sessions
    union all
    select
        'escalation_snapshots' as stream,
        row_date
    from escalation_snapshots
    union all
    select
        'ops_decisions' as stream,
        row_date
    from ops_decisions

),

counted as (

    select
        stream,
        row_date,
        count(*) as row_count
    from stream_rows
    group by stream, row_date

),

{# Every day of the read window, so a day whose rows were deleted since it
    was last counted is stored again, as zero. #}
streams as (

    select 'dashboard_sessions' as stream
    union all
    select 'escalation_snapshots' as stream
    union all
    select 'ops_decisions' as stream

),

read_days as (

    {{ nightly_metrics.as_of_date_spine(first_day, last_day.strftime('%Y-%m-%d')) }}

),

days_without_rows as (

    select
        streams.stream,
        read_days.as_of_date as row_date,
        0 as row_count
    from read_days
    cross join streams
    left join counted
        on
            streams.stream = counted.stream
            and read_days.as_of_date = counted.row_date
    where counted.row_date is null

),

final as (

    select
        stream,
        row_date,
        row_count
    from counted
    union all
    select
        stream,
        row_date,
        row_count
    from days_without_rows

)

select * from final
