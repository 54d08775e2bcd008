{#-
    The memory of breaches: every breach candidate (int_breach_candidates_parsed)
    of every escalation snapshot a run has read. The application deletes
    snapshots after 14 days, and what was read from them keeps counting (the
    contract's "Breaches are remembered"); this table is the only place that
    still holds it (docs/breach-memory.md). Until this project's models were
    split it was stg_app__escalation_breach_candidates; the first build after
    the upgrade adopts that table under this name
    (adopt_renamed_breach_memory, on-run-start).

    Incremental on the snapshot: each snapshot is parsed once, and again only
    when its "updatedAt" changes. A run reads the snapshots of its read window
    (as-of range plus the escalation look-back) that are new to it.
-#}
{#-
    The pre-hooks, in the model's transaction, first take a lock (two
    overlapping `dbt build`s would both parse a new snapshot and store its
    candidates twice; the second now waits and then finds it parsed), then
    forget everything read from snapshots that changed since (read again
    below: what they yield now replaces it, nothing included) and drop the
    raw JSON of rejected elements whose snapshot is gone (it may hold
    transcript snippets). Spark's plain tables cannot delete+insert: there
    the model is rebuilt each run, from what exists.

    The table is the memory, so `--full-refresh` leaves it as it is
    (full_refresh=false), and a first build where this project has written
    SLA facts before stops (require_breach_memory; docs/breach-memory.md).
-#}
{{
    config(
        materialized=('table' if target.type == 'spark' else 'incremental'),
        full_refresh=(none if target.type == 'spark' else false),
        unique_key='fact_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['fact_created_at']},
            {'columns': ['fact_id']},
        ],
        pre_hook=([] if target.type == 'spark' else [
            "select pg_advisory_xact_lock(hashtext('"
            ~ nightly_metrics.breach_memory_lock_key() ~ "'))",
            "{{ nightly_metrics.forget_changed_and_deleted_snapshots() }}",
        ]),
        post_hook=["{{ nightly_metrics.drop_temporary_tables() }}"],
    )
}}
{%- if not is_incremental() %}
    {%- do nightly_metrics.require_breach_memory(
        var('breach_memory_schema', this.schema) ~ '.' ~ this.identifier
    ) %}
{%- endif %}

with

{# The snapshots of the read window this memory has not read yet (or not
    since they changed). #}
unread_snapshots as (

    select
        fact_id,
        updated_at
    from {{ ref('stg_app__escalation_snapshots') }} as snapshots
    where
        created_at >= {{ nightly_metrics.run_window_start(var('escalation_lookback_days')) }}
        and created_at < {{ nightly_metrics.run_window_end() }}
        {%- if is_incremental() %}
            and not exists (
                select 1
                from {{ this }} as remembered
                where
                    remembered.fact_id = snapshots.fact_id
                    and remembered.fact_updated_at = snapshots.updated_at
            )
        {%- endif %}

),

{# Each unread snapshot's candidates, looked up by its id: only these are
    parsed (a join would let PostgreSQL parse every snapshot of the window
    first and filter after). #}
candidates as (

    select
        parsed.fact_id,
        parsed.element_index,
        parsed.conversation_id,
        parsed.shop_domain,
        parsed.candidate_source,
        parsed.rejection_reason,
        parsed.rejected_element,
        parsed.is_usable,
        parsed.breached_at,
        parsed.fact_created_date,
        parsed.fact_created_at,
        parsed.fact_updated_at
    from unread_snapshots
    cross join lateral (
        select *
        from {{ ref('int_breach_candidates_parsed') }} as snapshot_candidates
        where
            snapshot_candidates.fact_id = unread_snapshots.fact_id
            and snapshot_candidates.fact_updated_at = unread_snapshots.updated_at
        {{ nightly_metrics.evaluated_once() }}
    ) as parsed

),

final as (

    select * from candidates

)

select * from final
