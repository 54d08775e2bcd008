{#-
    Writes this run's rows of the marts model into the application's
    "DashboardFact" table: exactly one row per (factType, windowEnd) with
    shopDomain '__aggregate__', updated in place when the date is rerun.
    Runs as the model's post-hook, inside the model's transaction, so the
    model's rows and the written facts commit together or not at all. A
    transaction-level advisory lock serializes concurrent runs; "DashboardFact"
    has no unique key we could rely on, and adding one is the app's call.
    Only rows with shopDomain '__aggregate__', one of our two fact types and
    createdAt equal to one of this run's window ends are ever changed.
-#}
{% macro write_aggregate_facts() %}
    {{- return(adapter.dispatch('write_aggregate_facts', 'nightly_metrics')()) -}}
{% endmacro %}

{% macro default__write_aggregate_facts() %}
    {#- A dry run (var write_back: false) computes the model and writes nothing. -#}
    {%- if not var('write_back', true) -%}
        {{- return('select 1 as write_back_skipped') -}}
    {%- endif -%}
    {%- set facts = source('app', 'dashboard_fact') -%}
    {%- set run_rows -%}
        select
            metric_fact_type,
            window_end_at,
            fact_value,
            fact_metadata
        from {{ this }}
        where
            as_of_date >= cast('{{ nightly_metrics.as_of_start() }}' as date)
            and as_of_date <= cast('{{ nightly_metrics.as_of_end() }}' as date)
    {%- endset -%}
    {%- set ours -%}
        facts."shopDomain" = '__aggregate__'
        and facts."factType" in ('metrics.activation.rolling7d', 'metrics.sla_resolution.rolling7d')
    {%- endset -%}

    select pg_advisory_xact_lock(hashtext('nightly_metrics.write_aggregate_facts'));

    -- A key can hold more than one row only if something else wrote it; keep the oldest.
    delete from {{ facts }} as facts
    using (
        select
            facts.id,
            row_number() over (
                partition by facts."factType", facts."createdAt" order by facts.id
            ) as copy_number
        from {{ facts }} as facts
        inner join ({{ run_rows }}) as run_rows
            on
                facts."factType" = run_rows.metric_fact_type
                and facts."createdAt" = run_rows.window_end_at
        where {{ ours }}
    ) as copies
    where facts.id = copies.id and copies.copy_number > 1;

    update {{ facts }} as facts
    set
        scope = 'ops',
        value = run_rows.fact_value,
        metadata = run_rows.fact_metadata,
        "updatedAt" = {{ nightly_metrics.current_utc_timestamp() }}
    from ({{ run_rows }}) as run_rows
    where
        {{ ours }}
        and facts."factType" = run_rows.metric_fact_type
        and facts."createdAt" = run_rows.window_end_at;

    insert into {{ facts }} (
        "shopDomain", "factType", scope, value, metadata, "createdAt", "updatedAt"
    )
    select
        '__aggregate__',
        run_rows.metric_fact_type,
        'ops',
        run_rows.fact_value,
        run_rows.fact_metadata,
        run_rows.window_end_at,
        {{ nightly_metrics.current_utc_timestamp() }}
    from ({{ run_rows }}) as run_rows
    where not exists (
        select 1
        from {{ facts }} as facts
        where
            {{ ours }}
            and facts."factType" = run_rows.metric_fact_type
            and facts."createdAt" = run_rows.window_end_at
    )
{% endmacro %}
