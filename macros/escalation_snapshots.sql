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

    Only snapshots of the run's read window are compared, through the
    "createdAt" index; the raw-JSON check reads only rejected candidates
    that still carry their JSON.
-#}
{% macro forget_changed_and_deleted_snapshots() %}
    {%- if not is_incremental() -%}
        {{- return('select 1 as nothing_to_forget') -}}
    {%- endif -%}
    {%- set facts = source('app', 'dashboard_fact') -%}
    {%- set read_start = nightly_metrics.run_window_start(var('escalation_lookback_days')) -%}
    {%- set statements -%}
        delete from {{ this }} as parsed
        using {{ facts }} as facts
        where
            parsed.fact_id = facts.id
            and facts."factType" = 'chatwoot.escalations'
            and facts."createdAt" >= {{ read_start }}
            and facts."createdAt" < {{ nightly_metrics.run_window_end() }}
            and facts."updatedAt" <> parsed.fact_updated_at;

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
