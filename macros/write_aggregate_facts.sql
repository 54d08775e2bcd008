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
{#-
    The rows of the marts model ({{ this }}) that this run computed and may
    write: not those withheld for a missing source day, nor those kept as
    stored because their sources shrank (a stored row then stays untouched).
-#}
{% macro aggregate_facts_of_this_run() %}
    {%- set rows_sql -%}
        select
            metric_fact_type,
            window_end_at,
            fact_value,
            fact_metadata
        from {{ this }}
        where
            as_of_date >= cast('{{ nightly_metrics.as_of_start() }}' as date)
            and as_of_date <= cast('{{ nightly_metrics.as_of_end() }}' as date)
            and write_action = 'written'
    {%- endset -%}
    {{- return(rows_sql) -}}
{% endmacro %}

{% macro write_aggregate_facts() %}
    {{- return(adapter.dispatch('write_aggregate_facts', 'nightly_metrics')()) -}}
{% endmacro %}

{% macro default__write_aggregate_facts() %}
    {#- A dry run (var write_back: false) computes the model and writes nothing. -#}
    {%- if not nightly_metrics.bool_var('write_back') -%}
        {{- return('select 1 as write_back_skipped') -}}
    {%- endif -%}
    {#- Resolved only when it runs, as on Spark: called while dbt parses,
        source() would make "DashboardFact" an input of the marts model in
        the DAG. It is where the model writes: its SQL reads our stored rows
        through stg_app__aggregate_facts, and this hook writes them back. -#}
    {%- if not execute -%}
        {{- return('select 1 as aggregate_facts_written') -}}
    {%- endif -%}
    {%- set facts = source('app', 'dashboard_fact') -%}
    {%- set c = nightly_metrics.app_columns('dashboard_fact') -%}
    {%- set run_rows = nightly_metrics.aggregate_facts_of_this_run() -%}
    {%- set ours -%}
        facts.{{ c.shopDomain }} = '__aggregate__'
        and facts.{{ c.factType }} in (
            {{ nightly_metrics.fact_type('activation') }},
            {{ nightly_metrics.fact_type('sla_resolution') }}
        )
    {%- endset -%}

    select pg_advisory_xact_lock(hashtext('nightly_metrics.write_aggregate_facts'));

    -- A key can hold more than one row only if something else wrote it; keep the oldest.
    delete from {{ facts }} as facts
    using (
        select
            facts.{{ c.id }},
            row_number() over (
                partition by facts.{{ c.factType }}, facts.{{ c.createdAt }} order by facts.{{ c.id }}
            ) as copy_number
        from {{ facts }} as facts
        inner join ({{ run_rows }}) as run_rows
            on
                facts.{{ c.factType }} = run_rows.metric_fact_type
                and facts.{{ c.createdAt }} = run_rows.window_end_at
        where {{ ours }}
    ) as copies
    where facts.{{ c.id }} = copies.id and copies.copy_number > 1;

    update {{ facts }} as facts
    set
        {{ c.scope }} = 'ops',
        {{ c.value }} = run_rows.fact_value,
        {{ c.metadata }} = run_rows.fact_metadata,
        {{ c.evidenceUrl }} = coalesce(
            {{ nightly_metrics.evidence_url('run_rows.window_end_at') }},
            facts.{{ c.evidenceUrl }}
        ),
        {{ c.updatedAt }} = {{ nightly_metrics.write_time_utc() }}
    from ({{ run_rows }}) as run_rows
    where
        {{ ours }}
        and facts.{{ c.factType }} = run_rows.metric_fact_type
        and facts.{{ c.createdAt }} = run_rows.window_end_at;

    insert into {{ facts }} (
        {{ c.shopDomain }}, {{ c.factType }}, {{ c.scope }}, {{ c.value }}, {{ c.metadata }},
        {{ c.evidenceUrl }}, {{ c.createdAt }}, {{ c.updatedAt }}
    )
    select
        '__aggregate__',
        run_rows.metric_fact_type,
        'ops',
        run_rows.fact_value,
        run_rows.fact_metadata,
        {{ nightly_metrics.evidence_url('run_rows.window_end_at') }},
        run_rows.window_end_at,
        {{ nightly_metrics.write_time_utc() }}
    from ({{ run_rows }}) as run_rows
    where not exists (
        select 1
        from {{ facts }} as facts
        where
            {{ ours }}
            and facts.{{ c.factType }} = run_rows.metric_fact_type
            and facts.{{ c.createdAt }} = run_rows.window_end_at
    )
{% endmacro %}

{#-
    Spark: the replica's "DashboardFact" is a plain (parquet) table, which has
    no UPDATE or DELETE, and Spark cannot overwrite a table it is reading in
    the same statement. So the new contents of the whole table are staged in
    a scratch table beside the model (every row that is not one of ours for
    this run's keys, plus this run's rows), and then written over the replica
    with INSERT OVERWRITE. Heavy, but the replica is small next to what a
    cluster reads, and it keeps the same rule: exactly one row per
    (factType, windowEnd), extra copies removed, a rerun keeps the row's id
    and evidenceUrl and replaces its values. Not atomic and not safe for two
    writers at once: run one job at a time against a replica (see README).
    The statements run from here, one at a time; the hook itself is a no-op.
-#}
{% macro spark__write_aggregate_facts() %}
    {%- if not nightly_metrics.bool_var('write_back') -%}
        {{- return('select 1 as write_back_skipped') -}}
    {%- endif -%}
    {%- if not execute -%}
        {{- return('select 1 as aggregate_facts_written') -}}
    {%- endif -%}
    {%- set facts = source('app', 'dashboard_fact') -%}
    {%- set staged = api.Relation.create(
        schema=this.schema, identifier=this.identifier ~ '__dashboard_fact_staged', type='table'
    ) -%}
    {%- set c = nightly_metrics.app_columns('dashboard_fact') -%}
    {%- set columns = [
        c.id, c.shopDomain, c.factType, c.scope, c.value, c.metadata,
        c.evidenceUrl, c.createdAt, c.updatedAt,
    ] -%}
    {%- set column_list = columns | join(', ') -%}
    {%- set stage_sql -%}
        create table {{ staged }} using parquet as
        with

        run_rows as (

            {{ nightly_metrics.aggregate_facts_of_this_run() }}

        ),

        existing as (

            select * from {{ facts }}

        ),

        our_copies as (

            select
                existing.id,
                existing.{{ c.evidenceUrl }},
                existing.{{ c.factType }},
                existing.{{ c.createdAt }},
                row_number() over (
                    partition by existing.{{ c.factType }}, existing.{{ c.createdAt }}
                    order by existing.id
                ) as copy_number
            from existing
            inner join run_rows
                on
                    existing.{{ c.factType }} = run_rows.metric_fact_type
                    and existing.{{ c.createdAt }} = run_rows.window_end_at
            where existing.{{ c.shopDomain }} = '__aggregate__'

        ),

        kept as (

            select {{ column_list }}
            from existing
            left anti join run_rows
                on
                    existing.{{ c.shopDomain }} = '__aggregate__'
                    and existing.{{ c.factType }} = run_rows.metric_fact_type
                    and existing.{{ c.createdAt }} = run_rows.window_end_at

        ),

        written as (

            select
                coalesce(
                    our_copies.id,
                    (select coalesce(max(id), 0) from existing)
                    + row_number() over (
                        order by run_rows.window_end_at, run_rows.metric_fact_type
                    )
                ) as id,
                '__aggregate__' as {{ c.shopDomain }},
                run_rows.metric_fact_type as {{ c.factType }},
                'ops' as scope,
                run_rows.fact_value as value,
                run_rows.fact_metadata as metadata,
                coalesce(
                    {{ nightly_metrics.evidence_url('run_rows.window_end_at') }},
                    our_copies.{{ c.evidenceUrl }}
                ) as {{ c.evidenceUrl }},
                run_rows.window_end_at as {{ c.createdAt }},
                {{ nightly_metrics.current_utc_timestamp() }} as {{ c.updatedAt }}
            from run_rows
            left join our_copies
                on
                    run_rows.metric_fact_type = our_copies.{{ c.factType }}
                    and run_rows.window_end_at = our_copies.{{ c.createdAt }}
                    and our_copies.copy_number = 1

        )

        select {{ column_list }} from kept
        union all
        select {{ column_list }} from written
    {%- endset -%}
    {% do run_query('drop table if exists ' ~ staged) %}
    {% do run_query(stage_sql) %}
    {% do run_query(
        'insert overwrite table ' ~ facts ~ ' (' ~ column_list ~ ') select '
        ~ column_list ~ ' from ' ~ staged
    ) %}
    {{- return('drop table if exists ' ~ staged) -}}
{% endmacro %}

{#-
    The evidenceUrl of the rows this run writes (docs/operations.md#evidence-links):
    the template NIGHTLY_METRICS_EVIDENCE_URL (the runner's --evidence-url)
    with {run_id} the run's id (the runner's run_id in job_runs; under plain
    dbt, dbt's invocation_id) and {as_of} the row's as-of date, the day its
    window ends. Unset: null, and a rewritten row keeps the link it had.
    `window_end` is the SQL of the row's window end (a midnight).
-#}
{% macro evidence_url(window_end) %}
    {%- set template = env_var('NIGHTLY_METRICS_EVIDENCE_URL', '') | trim -%}
    {%- if not template -%}
        {{- return('cast(null as ' ~ dbt.type_string() ~ ')') -}}
    {%- endif -%}
    {%- set run_id = env_var('NIGHTLY_METRICS_RUN_ID', '') or invocation_id -%}
    {%- set with_run = template | replace('{run_id}', run_id) | replace("'", "''") -%}
    {{- return(dbt.replace("'" ~ with_run ~ "'", "'{as_of}'",
        nightly_metrics.iso_date(window_end))) -}}
{% endmacro %}
