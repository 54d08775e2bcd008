{#-
    Pre-hook of int_breach_candidates_remembered (PostgreSQL), inside the
    model's transaction, after its lock: makes the stored candidates follow
    the contract's "Breaches are remembered".

    - Candidates read from a snapshot whose row changed since (its updatedAt
      moved) are deleted; the model then reads the snapshot again, so what it
      yields now replaces everything it yielded before, nothing included.
    - A snapshot the application deleted keeps its candidates (conversation
      id and breach time), but the raw JSON of its rejected elements goes
      with it: it may hold transcript snippets.

    Only snapshots of the run's read window are compared: the stored ones, by
    our table's fact_created_at index, each looked up once by its primary key
    (a snapshot's createdAt is set once, when the application records it).
    Joining the application's table instead read the window's every fact
    through its "createdAt" index, sessions included (0.43 s at 10 million rows
    against 0.10 s; EXPLAIN ANALYZE), and the join then scanned all we ever
    stored. The raw-JSON check reads only rejected candidates that still carry
    their JSON.
-#}
{% macro forget_changed_and_deleted_snapshots() %}
    {%- if not is_incremental() -%}
        {{- return('select 1 as nothing_to_forget') -}}
    {%- endif -%}
    {%- set facts = source('app', 'dashboard_fact') -%}
    {%- set c = nightly_metrics.app_columns('dashboard_fact') -%}
    {%- set read_start = nightly_metrics.run_window_start(var('escalation_lookback_days')) -%}
    {%- set statements -%}
        with

        stored_snapshots as (
            select distinct
                fact_id,
                fact_updated_at
            from {{ this }}
            where
                fact_created_at >= {{ read_start }}
                and fact_created_at < {{ nightly_metrics.run_window_end() }}
        ),

        {#- A deleted snapshot's lookup finds nothing: it is remembered. #}
        changed_snapshots as (
            select stored_snapshots.fact_id
            from stored_snapshots
            where
                stored_snapshots.fact_updated_at <> (
                    select facts.{{ c.updatedAt }}
                    from {{ facts }} as facts
                    where
                        facts.{{ c.id }} = stored_snapshots.fact_id
                        and facts.{{ c.factType }} = {{ nightly_metrics.fact_type('escalation_snapshot') }}
                        and facts.{{ c.createdAt }} >= {{ read_start }}
                        and facts.{{ c.createdAt }} < {{ nightly_metrics.run_window_end() }}
                )
        )

        delete from {{ this }} as parsed
        where
            parsed.fact_created_at >= {{ read_start }}
            and parsed.fact_created_at < {{ nightly_metrics.run_window_end() }}
            and parsed.fact_id in (select changed_snapshots.fact_id from changed_snapshots);

        update {{ this }} as parsed
        set rejected_element = null
        where
            parsed.rejected_element is not null
            and not exists (
                select 1
                from {{ facts }} as facts
                where facts.{{ c.id }} = parsed.fact_id
            )
    {%- endset -%}
    {{- return(statements) -}}
{% endmacro %}

{#-
    The memory of breaches is the incremental table
    int_breach_candidates_remembered: what it read from snapshots the
    application has since purged exists nowhere else. Building it anew (a
    first build) is right only where this project has never written an SLA
    fact; anywhere else it would silently recompute from the snapshots that
    survived (a dropped or renamed target schema, a new one). Then the build
    stops, unless the var rebuild_breach_memory says to start afresh on
    purpose (docs/breach-memory.md). `memory` names the table for the message.
-#}
{% macro require_breach_memory(memory) %}
    {#- A unit test of the model reads its given rows, not the table. -#}
    {%- if not execute or target.type == 'spark' or model.resource_type != 'model'
            or nightly_metrics.bool_var('rebuild_breach_memory') -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set c = nightly_metrics.app_columns('dashboard_fact') -%}
    {%- set written_here -%}
        {{ nightly_metrics.set_transaction_settings() }};
        select count(*), max({{ c.createdAt }})
        from {{ source('app', 'dashboard_fact') }}
        where
            {{ c.shopDomain }} = '__aggregate__'
            and {{ c.factType }} = {{ nightly_metrics.fact_type('sla_resolution') }}
            {#- ours are dated by their window's end, a midnight; the earlier
                script's carry the time it ran #}
            and {{ c.createdAt }} = date_trunc('day', {{ c.createdAt }})
    {%- endset -%}
    {%- set found = run_query(written_here).rows[0] -%}
    {%- if found[0] > 0 -%}
        {{- nightly_metrics.configuration_error(
            "the remembered breaches (" ~ memory ~ ") are missing, but this project has"
            ~ " written " ~ found[0] ~ " SLA fact(s) to this database (the newest for the window"
            ~ " ending " ~ found[1].strftime('%Y-%m-%d') ~ "). Built afresh they would forget every"
            ~ " breach of a snapshot the application has purged. Restore the table, or point"
            ~ " NIGHTLY_METRICS_TARGET_SCHEMA at the schema that holds it; to start the memory"
            ~ " afresh on purpose, run with --rebuild-breach-memory"
            ~ " (var rebuild_breach_memory: true). See docs/breach-memory.md.") -}}
    {%- endif -%}
    {{- return('') -}}
{% endmacro %}

{#-
    The memory's table name, and the one it had until the breach model was
    split (stg_app__escalation_breach_candidates): databases deployed before
    hold the memory under that name.
-#}
{% macro breach_memory_identifier() %}
    {{- return('int_breach_candidates_remembered') -}}
{% endmacro %}

{% macro former_breach_memory_identifier() %}
    {{- return('stg_app__escalation_breach_candidates') -}}
{% endmacro %}

{#-
    on-run-start (PostgreSQL): the first build after the upgrade adopts the
    memory kept under its former name. When the target schema holds the
    former table and not the current one, the table is renamed, with its
    rows, indexes and grants, so the model finds itself incremental and goes
    on from there; it is never started afresh. Anything else (a memory under
    the current name, none at all) is left as it is, and require_breach_memory
    judges a missing one. The rename takes the memory's lock first, so it
    waits for a run of the earlier version still writing it, and checks
    again inside its transaction; dbt's cache is told of the rename.
-#}
{% macro adopt_renamed_breach_memory() %}
    {%- if not execute or target.type != 'postgres' or flags.WHICH not in ('build', 'run') -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set name = nightly_metrics.breach_memory_identifier() -%}
    {%- set former_name = nightly_metrics.former_breach_memory_identifier() -%}
    {%- set former = adapter.get_relation(target.database, target.schema, former_name) -%}
    {%- if former is none or former.type != 'table'
            or adapter.get_relation(target.database, target.schema, name) is not none -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set adopted = api.Relation.create(
        database=target.database, schema=target.schema, identifier=name, type='table') -%}
    {%- do adapter.cache_renamed(former, adopted) -%}
    {%- set statements -%}
        begin;
        {{ nightly_metrics.set_transaction_settings() }};
        select pg_advisory_xact_lock(hashtext('{{ nightly_metrics.breach_memory_lock_key() }}'));
        do $adopt$
        begin
            if to_regclass('{{ former.include(database=false) | replace("'", "''") }}') is not null
                and to_regclass('{{ adopted.include(database=false) | replace("'", "''") }}') is null
            then
                alter table {{ former }} rename to {{ adapter.quote(name) }};
            end if;
        end
        $adopt$;
        commit
    {%- endset -%}
    {{- return(statements) -}}
{% endmacro %}

{#-
    on-run-start of a dry run (the var breach_memory_schema names the real
    target schema, the build goes to a scratch one): the scratch schema gets
    a copy of the real memory's rows in the run's read window, so the dry
    run computes from the same remembered breaches as the real run, and
    changes none of them. Without a real memory there is nothing to copy,
    and require_breach_memory judges the scratch build as it would the real
    one. The statements commit on their own; dbt's cache is told of the copy
    so the model finds it incremental.
-#}
{% macro copy_breach_memory_into_scratch_schema() %}
    {%- set home = var('breach_memory_schema', none) -%}
    {%- if not execute or target.type == 'spark' or home is none or home == target.schema
            or flags.WHICH not in ('build', 'run') -%}
        {{- return('') -}}
    {%- endif -%}
    {%- do nightly_metrics.check_schema_name('the var breach_memory_schema', home) -%}
    {%- set name = nightly_metrics.breach_memory_identifier() -%}
    {#- A real schema not yet upgraded holds it under its former name. -#}
    {%- set memory = adapter.get_relation(target.database, home, name)
        or adapter.get_relation(
            target.database, home, nightly_metrics.former_breach_memory_identifier()) -%}
    {%- if memory is none -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set copy = api.Relation.create(
        database=target.database, schema=target.schema, identifier=name, type='table') -%}
    {#- A copy left by a dry run that was stopped is emptied, not dropped: the
        views on it, which dbt knows of, stay. -#}
    {%- set stale_copy = adapter.get_relation(target.database, target.schema, name) -%}
    {%- if stale_copy is none -%}
        {%- do adapter.cache_added(copy) -%}
    {%- endif -%}
    {%- set statements -%}
        begin;
        {{ nightly_metrics.set_transaction_settings() }};
        {% if stale_copy is none -%}
        create schema if not exists {{ adapter.quote(target.schema) }};
        create table {{ copy }} (like {{ memory }} including all);
        {%- else -%}
        truncate table {{ copy }};
        {%- endif %}
        insert into {{ copy }}
        select *
        from {{ memory }}
        where
            fact_created_at >= {{
                nightly_metrics.run_window_start(var('escalation_lookback_days'))
            }}
            and fact_created_at < {{ nightly_metrics.run_window_end() }};
        analyze {{ copy }};
        commit
    {%- endset -%}
    {{- return(statements) -}}
{% endmacro %}
