{#-
    One row per row of the application's table `table` (its dbt name) that
    this project skips because it lacks what is read: a time or a payload,
    which the hosted database's schema lets be NULL (docs/source-naming.md).
    Such rows belong to no window, so they are skipped, never an error; this
    test counts them (severity warn: the runner logs the count). Only rows
    this project would read are counted: of "DashboardFact", the fact types
    it reads, with no createdAt, or in the run's read window with no value;
    of "DecisionLog", the ops decisions with no createdAt. Each part is one
    index lookup (createdAt; DecisionLog's scope and createdAt).
-#}
{% test rows_usable(model, table) %}
{%- set c = nightly_metrics.app_columns(table) -%}
{%- if table == 'dashboard_fact' -%}
    {%- set read_types -%}
        {{ nightly_metrics.fact_type('dashboard_session') }},
        {{ nightly_metrics.fact_type('escalation_snapshot') }}
    {%- endset %}

    select
        {{ c.id }} as id,
        'createdAt' as missing
    from {{ model }}
    where
        {{ c.createdAt }} is null
        and {{ c.factType }} in ({{ read_types }})

    union all

    select
        {{ c.id }} as id,
        'value' as missing
    from {{ model }}
    where
        {{ c.createdAt }} >= {{ nightly_metrics.run_window_start(nightly_metrics.source_read_days()) }}
        and {{ c.createdAt }} < {{ nightly_metrics.run_window_end() }}
        and {{ c.value }} is null
        and {{ c.factType }} in ({{ read_types }})
{%- else %}

    select
        {{ c.id }} as id,
        'createdAt' as missing
    from {{ model }}
    where
        {{ c.scope }} = 'ops'
        and {{ c.createdAt }} is null
{%- endif %}
{% endtest %}
