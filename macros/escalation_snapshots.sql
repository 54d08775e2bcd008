{#-
    Pre-hook of stg_app__escalation_breach_candidates (PostgreSQL), inside the
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
                    select facts."updatedAt"
                    from {{ facts }} as facts
                    where
                        facts.id = stored_snapshots.fact_id
                        and facts."factType" = 'chatwoot.escalations'
                        and facts."createdAt" >= {{ read_start }}
                        and facts."createdAt" < {{ nightly_metrics.run_window_end() }}
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
                where facts.id = parsed.fact_id
            )
    {%- endset -%}
    {{- return(statements) -}}
{% endmacro %}
