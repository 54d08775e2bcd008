{#-
    Rows per source stream and UTC day, over the days this run's windows
    read (the as-of range and, before it, the escalation look-back or the
    missing-day check's 28-day baseline, whichever is longer), counted from
    the rows that exist now: one CTE per stream of the var source_streams
    (dashboard sessions, escalation snapshots and ops decisions, the three
    streams the KPIs read). Days without rows have no row. Feeds the
    missing-source-day check and each fact's sourceRowsRead.
-#}
{%- set read_start = nightly_metrics.run_window_start(nightly_metrics.source_read_days()) -%}
{%- set read_window -%}
    created_at >= {{ read_start }}
    and created_at < {{ nightly_metrics.run_window_end() }}
{%- endset %}

with

{% for name, stream in nightly_metrics.source_streams().items() %}
    {{ name }} as (

        select {{ stream['day_column'] }} as row_date
        from {{ ref(stream['model']) }}
        where {{ read_window }}

    ),

{% endfor -%}
stream_rows as (

    {%- for name in nightly_metrics.source_streams() %}
        select
            '{{ name }}' as stream,
            row_date
        from {{ name }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

),

final as (

    select
        stream,
        row_date,
        count(*) as row_count
    from stream_rows
    group by stream, row_date

)

select * from final
