{#-
    Session state and a transaction pooler (PgBouncer in transaction mode, as
    hosted PostgreSQL offers on port 6543): between two transactions the next
    statement may run on another server connection, and whatever a
    transaction leaves in its session stays behind on a connection that the
    next client gets. So everything here lives inside one model's
    transaction: a statement timeout set LOCAL, and the temporary tables of
    dbt's incremental materialization dropped before the commit.
-#}

{#- Pre-hook of every model: the var statement_timeout_seconds (0: none). -#}
{% macro set_statement_timeout() %}
    {{- return(adapter.dispatch('set_statement_timeout', 'nightly_metrics')()) -}}
{% endmacro %}
{% macro default__set_statement_timeout() -%}
    set local statement_timeout = {{ (var('statement_timeout_seconds') | float * 1000) | int }}
{%- endmacro %}
{% macro spark__set_statement_timeout() -%}
    select 1 as no_statement_timeout
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
    Post-hook of the intermediate tables: statistics for what was just built,
    before the next node reads it. dbt-postgres creates tables without them,
    so until autovacuum comes by the planner guesses row counts (a backfill's
    tables hold millions of rows, and a guessed plan there can take minutes).
-#}
{% macro analyze_this() %}
    {{- return(adapter.dispatch('analyze_this', 'nightly_metrics')()) -}}
{% endmacro %}
{% macro default__analyze_this() -%}
    {%- if config.get('materialized') in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- else -%}
        select 1 as nothing_to_analyze
    {%- endif -%}
{%- endmacro %}
{% macro spark__analyze_this() -%}
    select 1 as nothing_to_analyze
{%- endmacro %}
