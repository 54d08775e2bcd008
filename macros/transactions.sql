{#-
    Session state and a transaction pooler (PgBouncer in transaction mode, as
    hosted PostgreSQL offers on port 6543): between two transactions the next
    statement may run on another server connection, and whatever a
    transaction leaves in its session stays behind on a connection that the
    next client gets. So everything here lives inside one model's
    transaction: the settings below set LOCAL, and the temporary tables of
    dbt's incremental materialization dropped before the commit.
-#}

{#-
    Pre-hook of every model, and the first statement of each data test,
    freshness query and on-run-start step: the var statement_timeout_seconds
    (0: none), and the time zone UTC. The application's hosted database
    keeps its times as timestamptz (docs/source-naming.md): in UTC its
    instants read, compare with our UTC bounds, and fall on dates, exactly
    as the Prisma schema's UTC timestamps do, whatever time zone the
    database or the role sets (PostgreSQL converts timestamp and timestamptz
    by the session's TimeZone). Comparing the columns themselves, not an
    expression of them, keeps the "createdAt" index in use.
-#}
{% macro set_transaction_settings() %}
    {{- return(adapter.dispatch('set_transaction_settings', 'nightly_metrics')()) -}}
{% endmacro %}
{% macro default__set_transaction_settings() -%}
    set local statement_timeout = {{ (var('statement_timeout_seconds') | float * 1000) | int }};
    set local time zone 'UTC'
{%- endmacro %}
{% macro spark__set_transaction_settings() -%}
    select 1 as no_transaction_settings
{%- endmacro %}

{#-
    Post-hook of the incremental models: dbt-postgres builds each batch in a
    temporary table and leaves it for the end of the session, which through
    a pooler is never: drop it in the model's transaction.
-#}
{% macro drop_temporary_tables() %}
    {{- return(adapter.dispatch('drop_temporary_tables', 'nightly_metrics')()) -}}
{% endmacro %}
{% macro default__drop_temporary_tables() -%}
    discard temp
{%- endmacro %}
{% macro spark__drop_temporary_tables() -%}
    select 1 as no_temporary_tables
{%- endmacro %}

{#-
    Post-hook of every table the build writes (intermediate and marts):
    statistics for what was just written, before the next node reads it,
    whenever it changed enough to matter (docs/architecture.md, "Statistics").
    dbt-postgres creates tables without statistics, and until autovacuum
    comes by the planner guesses row counts: after a fresh deployment or a
    backfill that made the first nightlies 2-4 times slower. The rule, in
    the database and in the model's transaction: ANALYZE when the table was
    never analyzed (a table model is new every run), or when the rows this
    transaction inserted, updated or deleted, or the table's growth since
    its statistics were taken (earlier runs' rows), reach
    analyze_min_changed_share of its rows or analyze_min_changed_rows rows.
    Not n_mod_since_analyze: an ANALYZE inside the transaction that wrote
    the rows is followed by that transaction's counts, so it would analyze
    the next night again. A nightly adds a few thousand rows to the
    remembered breaches: it does not pay for an ANALYZE of millions.
-#}
{% macro analyze_this() %}
    {{- return(adapter.dispatch('analyze_this', 'nightly_metrics')()) -}}
{% endmacro %}
{% macro default__analyze_this() -%}
    {%- if config.get('materialized') in ('table', 'incremental') -%}
    do $analyze_this$
    declare
        relation oid := '{{ this.include(database=false) }}'::regclass;
        inserted_rows bigint := pg_catalog.pg_stat_get_xact_tuples_inserted(relation);
        updated_rows bigint := pg_catalog.pg_stat_get_xact_tuples_updated(relation);
        deleted_rows bigint := pg_catalog.pg_stat_get_xact_tuples_deleted(relation);
        estimated_rows float4;
        live_rows float8;
    begin
        select class.reltuples, coalesce(stats.n_live_tup, 0) + inserted_rows - deleted_rows
        into estimated_rows, live_rows
        from pg_catalog.pg_class as class
        left join pg_catalog.pg_stat_user_tables as stats on class.oid = stats.relid
        where class.oid = relation;
        -- this transaction's changes (not published yet), or the growth since
        -- the statistics were taken, whichever is more
        if estimated_rows < 0 or greatest(
            inserted_rows + updated_rows + deleted_rows, abs(live_rows - estimated_rows)
        ) >= least(
            {{ var('analyze_min_changed_rows') | int }},
            greatest(1, {{ var('analyze_min_changed_share') | float }} * estimated_rows)
        ) then
            analyze {{ this }};
        end if;
    end
    $analyze_this$
    {%- else -%}
        select 1 as nothing_to_analyze
    {%- endif -%}
{%- endmacro %}
{% macro spark__analyze_this() -%}
    select 1 as nothing_to_analyze
{%- endmacro %}

{#-
    Data tests and source freshness queries get the same statement timeout
    as the models: dbt runs each in a transaction of its own, so the setting
    is LOCAL to it there too. These override dbt's own macros of the same
    name for PostgreSQL (dispatch looks in the root project first).
-#}
{% macro postgres__get_test_sql(main_sql, fail_calc, warn_if, error_if, limit) -%}
    {{ nightly_metrics.default__set_transaction_settings() }};
    {{ dbt.default__get_test_sql(main_sql, fail_calc, warn_if, error_if, limit) }}
{%- endmacro %}

{% macro postgres__collect_freshness(source, loaded_at_field, filter) %}
    {% call statement('collect_freshness', fetch_result=True, auto_begin=True) -%}
        {{ nightly_metrics.default__set_transaction_settings() }};
        select
            max({{ loaded_at_field }}) as max_loaded_at,
            {{ current_timestamp() }} as snapshotted_at
        from {{ source }}
        {% if filter %}
            where {{ filter }}
        {% endif %}
    {% endcall %}
    {{ return(load_result('collect_freshness')) }}
{% endmacro %}

{#-
    Pre-hook of the incremental list models (the slowest and the open
    breaches): a rerun's list may be shorter than the stored one, or empty,
    and delete+insert replaces only the keys it brings, so the stored rows of
    the dates this run lists go first. `last_only`: the model lists the
    run's last as-of date alone. On Spark, insert_overwrite replaces the
    partitions it writes (a date whose new list is empty keeps its old one).
-#}
{% macro delete_listed_dates(last_only=false) %}
    {{- return(adapter.dispatch('delete_listed_dates', 'nightly_metrics')(last_only)) -}}
{% endmacro %}
{% macro default__delete_listed_dates(last_only) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            as_of_date >= cast('{{
                nightly_metrics.as_of_end() if last_only else nightly_metrics.as_of_start()
            }}' as date)
            and as_of_date <= cast('{{ nightly_metrics.as_of_end() }}' as date)
    {%- else -%}
        select 1 as nothing_stored_yet
    {%- endif -%}
{%- endmacro %}
{% macro spark__delete_listed_dates(last_only) -%}
    select 1 as partitions_overwritten
{%- endmacro %}

{#-
    The config of the incremental marts that hold one or more rows per as-of
    date (the drivers): a run replaces its own dates, by delete+insert on
    PostgreSQL and by overwriting the as-of date's partitions on Spark, and
    drops dbt's temporary tables before the commit. `pre_hook`: the model's
    own, after the project's.
-#}
{% macro incremental_by_as_of_date(unique_key, pre_hook=[]) %}
    {{- return({
        'unique_key': unique_key,
        'incremental_strategy': 'insert_overwrite' if target.type == 'spark' else 'delete+insert',
        'partition_by': ['as_of_date'] if target.type == 'spark' else none,
        'file_format': 'parquet' if target.type == 'spark' else none,
        'on_schema_change': 'append_new_columns',
        'pre_hook': pre_hook,
        'post_hook': ["{{ nightly_metrics.drop_temporary_tables() }}"],
    }) -}}
{% endmacro %}
