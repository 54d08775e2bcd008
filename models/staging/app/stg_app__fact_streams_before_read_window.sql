{#-
    For the "DashboardFact" streams the missing-source-day check counts (those
    of the var source_streams with a fact_type: dashboard sessions,
    escalation snapshots), whether the stream has any row before the first
    day this run reads. A stream's history counts from its first row (the
    contract: days before a stream's first row are never missing), and the
    run counts rows day by day only from that first read day on: this says
    whether the stream began earlier. The check (int_source_days_checked)
    answers it for the other streams itself (the ops decisions, from
    stg_app__ops_decisions).

    One row per stream. It reads the rows that exist now, so a stream the
    application purges (escalation snapshots, after 14 days) begins at its
    oldest remaining row.
-#}
{%- set read_start = nightly_metrics.run_window_start(nightly_metrics.source_read_days()) -%}
{%- set fact_streams = [] -%}
{%- set columns = [] -%}
{%- for name, stream in nightly_metrics.source_streams().items() if stream.get('fact_type') -%}
    {%- do fact_streams.append(name) -%}
    {%- do columns.append((
        nightly_metrics.fact_type_name(stream['fact_type']), 'has_' ~ name ~ '_before'
    )) -%}
{%- endfor %}

with

fact_types_before as (

    {{ nightly_metrics.fact_types_with_rows_before(
        source('app', 'dashboard_fact'), columns, read_start,
    ) }}

),

final as (

    {%- for name in fact_streams %}
        select
            '{{ name }}' as stream,
            has_{{ name }}_before as has_rows_before_read_window
        from fact_types_before
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}

)

select * from final
