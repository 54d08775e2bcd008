{#-
    Breach candidates from Chatwoot escalation snapshots: one row per element
    of `metadata.breaches` and per `slaBreached: true` element of the legacy
    `value` array, usable or not. Unusable ones carry a rejection_reason and
    their raw JSON, so nothing is skipped silently and no payload fails a run.

    Incremental on the fact id: each snapshot's JSON is parsed once, and again
    only when its "updatedAt" changes. A run parses the snapshots of its read
    window (as-of range plus the escalation look-back) that are new to it.
-#}
{#-
    Breaches are remembered: the application deletes snapshots after 14 days,
    and what was read from them keeps counting. The pre-hooks, in the model's
    transaction, first take a lock (two overlapping `dbt build`s would both
    parse a new snapshot and store its candidates twice; the second now waits
    and then finds it parsed), then forget everything read from snapshots that
    changed since (read again below: what they yield now replaces it, nothing
    included) and drop the raw JSON of rejected elements whose snapshot is
    gone (it may hold transcript snippets). Spark's plain tables cannot
    delete+insert: there the model is rebuilt each run, from what exists.

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
            "select pg_advisory_xact_lock("
            ~ "hashtext('nightly_metrics.stg_app__escalation_breach_candidates'))",
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

escalation_facts as (

    select
        id,
        {{ adapter.quote('shopDomain') }},
        value,
        metadata,
        {{ adapter.quote('createdAt') }},
        {{ adapter.quote('updatedAt') }}
    from {{ source('app', 'dashboard_fact') }} as facts
    where
        {{ adapter.quote('factType') }} = 'chatwoot.escalations'
        and {{ adapter.quote('createdAt') }} >= {{
            nightly_metrics.run_window_start(var('escalation_lookback_days'))
        }}
        and {{ adapter.quote('createdAt') }} < {{ nightly_metrics.run_window_end() }}
        {%- if is_incremental() %}
            and not exists (
                select 1
                from {{ this }} as parsed
                where
                    parsed.fact_id = facts.id
                    and parsed.fact_updated_at = facts.{{ adapter.quote('updatedAt') }}
            )
        {%- endif %}

),

{# Current format: metadata.breaches = [{conversationId, breachedAt}, …] -#}
breach_list_elements as (

    select
        facts.id as fact_id,
        facts.{{ adapter.quote('shopDomain') }} as shop_domain,
        facts.{{ adapter.quote('createdAt') }} as fact_created_at,
        facts.{{ adapter.quote('updatedAt') }} as fact_updated_at,
        elements.element_index,
        elements.element,
        {{ nightly_metrics.json_type('elements.element') }} as element_type,
        {{ nightly_metrics.json_member_type_and_text(
            'elements.element', 'conversationId', 'conversation_id'
        ) }},
        {{ nightly_metrics.json_member_type_and_text(
            'elements.element', 'breachedAt', 'breached_at'
        ) }}
    from escalation_facts as facts
    {{ nightly_metrics.join_json_array_elements(
        nightly_metrics.json_member('facts.metadata', 'breaches'), 'elements'
    ) }}

),

breach_list_parsed as {{ nightly_metrics.materialized_cte() }} (

    select
        *,
        case
            when
                conversation_id_type in ('number', 'string')
                and {{ nightly_metrics.regex_matches('conversation_id_text', '^[0-9]+$') }}
                then coalesce(nullif(trim(leading '0' from conversation_id_text), ''), '0')
        end as conversation_id,
        case
            when breached_at_type = 'string'
                then {{ nightly_metrics.parse_iso8601_utc('breached_at_text') }}
        end as breached_at_parsed
    from breach_list_elements

),

breach_list_candidates as (

    select
        fact_id,
        shop_domain,
        'metadata.breaches' as candidate_source,
        element_index,
        element,
        conversation_id,
        case
            when {{ nightly_metrics.is_usable_timestamp('breached_at_parsed') }}
                then breached_at_parsed
        end as breached_at,
        case
            when element_type != 'object' then 'element_not_an_object'
            when conversation_id is null then 'invalid_conversation_id'
            when breached_at_parsed is null then 'invalid_breached_at'
            when not {{ nightly_metrics.is_usable_timestamp('breached_at_parsed') }}
                then 'breach_time_out_of_range'
        end as rejection_reason,
        fact_created_at,
        fact_updated_at
    from breach_list_parsed

),

{# A `breaches` member that is there but not an array cannot be read. -#}
breach_list_not_arrays as (

    select
        id as fact_id,
        {{ adapter.quote('shopDomain') }} as shop_domain,
        'metadata.breaches' as candidate_source,
        cast(null as {{ dbt.type_bigint() }}) as element_index,
        {{ nightly_metrics.json_member('metadata', 'breaches') }} as element,
        cast(null as {{ dbt.type_string() }}) as conversation_id,
        cast(null as {{ dbt.type_timestamp() }}) as breached_at,
        'breaches_not_an_array' as rejection_reason,
        {{ adapter.quote('createdAt') }} as fact_created_at,
        {{ adapter.quote('updatedAt') }} as fact_updated_at
    from escalation_facts
    where
        {{ nightly_metrics.json_type(nightly_metrics.json_member('metadata', 'breaches')) }}
        not in ('array', 'null')

),

{#
    Legacy format (and every snapshot's conversation list): value = [{id,
    slaBreached, breachedAt?, createdAt?, lastMessageAt?, created_at?}, …]
    with metadata.slaMinutes. Only `slaBreached: true` elements are breaches.
-#}
conversation_elements as (

    select
        facts.id as fact_id,
        facts.{{ adapter.quote('shopDomain') }} as shop_domain,
        facts.{{ adapter.quote('createdAt') }} as fact_created_at,
        facts.{{ adapter.quote('updatedAt') }} as fact_updated_at,
        elements.element_index,
        elements.element,
        {{ nightly_metrics.json_member_type_and_text(
            'facts.metadata', 'slaMinutes', 'sla_minutes'
        ) }}
    from escalation_facts as facts
    {{ nightly_metrics.join_json_array_elements('facts.value', 'elements') }}

),

breached_conversation_elements as (

    select
        *,
        {{ nightly_metrics.json_member_type_and_text('element', 'id', 'id') }},
        {{ nightly_metrics.json_member_type_and_text('element', 'breachedAt', 'breached_at') }},
        {{ nightly_metrics.json_member_type_and_text('element', 'createdAt', 'created_at') }},
        {{ nightly_metrics.json_member_type_and_text(
            'element', 'lastMessageAt', 'last_message_at'
        ) }},
        {{ nightly_metrics.json_member_type_and_text('element', 'created_at', 'epoch') }}
    from conversation_elements
    where
        {{ nightly_metrics.json_type('element') }} = 'object'
        and {{ nightly_metrics.json_type(
            nightly_metrics.json_member('element', 'slaBreached')
        ) }} = 'boolean'
        and {{ nightly_metrics.json_scalar_text(
            nightly_metrics.json_member('element', 'slaBreached')
        ) }} = 'true'

),

conversation_times_parsed as {{ nightly_metrics.materialized_cte() }} (

    select
        *,
        case
            when id_type = 'number' and {{ nightly_metrics.regex_matches('id_text', '^[0-9]+$') }}
                then coalesce(nullif(trim(leading '0' from id_text), ''), '0')
        end as conversation_id,
        case
            when breached_at_type = 'string'
                then {{ nightly_metrics.parse_iso8601_utc('breached_at_text') }}
        end as breached_at_parsed,
        case
            when created_at_type = 'string'
                then {{ nightly_metrics.parse_iso8601_utc('created_at_text') }}
        end as created_at_parsed,
        case
            when last_message_at_type = 'string'
                then {{ nightly_metrics.parse_iso8601_utc('last_message_at_text') }}
        end as last_message_at_parsed,
        {#-
            Outside [1970, 10000) the result is unusable anyway; the bound
            keeps the arithmetic in range.
        -#}
        {#- Below 1e-300 a number is 0 here: a double cannot hold it (PostgreSQL
            fails the cast), and it is far below a microsecond anyway. -#}
        case
            when epoch_type = 'number'
                then case
                    when
                        {{ nightly_metrics.cast_numeric('epoch_text') }} >= 0
                        and {{ nightly_metrics.cast_numeric('epoch_text') }} < 253402300800
                        then {{ nightly_metrics.epoch_seconds_to_timestamp(
                            "case when " ~ nightly_metrics.cast_numeric('epoch_text')
                            ~ " < 1e-300 then '0' else epoch_text end"
                        ) }}
                end
        end as epoch_parsed,
        case
            when sla_minutes_type = 'number'
                then {{ nightly_metrics.cast_numeric('sla_minutes_text') }}
        end as sla_minutes_exact,
        case
            when sla_minutes_type = 'number'
                then case
                    when abs({{ nightly_metrics.cast_numeric('sla_minutes_text') }}) < 1e-300
                        then cast(0 as {{ dbt.type_float() }})
                    when abs({{ nightly_metrics.cast_numeric('sla_minutes_text') }}) < 10000000000
                        then cast(sla_minutes_text as {{ dbt.type_float() }})
                end
        end as sla_minutes
    from breached_conversation_elements

),

conversation_starts as (

    select
        *,
        case
            when {{ nightly_metrics.is_usable_timestamp('created_at_parsed') }}
                then created_at_parsed
            when {{ nightly_metrics.is_usable_timestamp('last_message_at_parsed') }}
                then last_message_at_parsed
            when {{ nightly_metrics.is_usable_timestamp('epoch_parsed') }} then epoch_parsed
        end as conversation_started_at
    from conversation_times_parsed

),

{# Start plus slaMinutes, computed only when the sum lands within a day of
    the usable years 1970-9999 (4 223 371 680 minutes from 1970 to 10000):
    further out it is unusable anyway, and the arithmetic could leave the
    engine's timestamp range and fail the run. #}
conversation_breach_times as (

    select
        *,
        case
            when
                {{ nightly_metrics.epoch_minutes('conversation_started_at') }}
                + sla_minutes_exact > -1440
                and {{ nightly_metrics.epoch_minutes('conversation_started_at') }}
                + sla_minutes_exact < 4223373120
                then {{ nightly_metrics.add_minutes('conversation_started_at', 'sla_minutes') }}
        end as breached_after_sla_at
    from conversation_starts

),

conversation_candidates as (

    select
        fact_id,
        shop_domain,
        'value' as candidate_source,
        element_index,
        element,
        conversation_id,
        case
            when {{ nightly_metrics.is_usable_timestamp('breached_at_parsed') }}
                then breached_at_parsed
            when {{ nightly_metrics.is_usable_timestamp('breached_after_sla_at') }}
                then breached_after_sla_at
        end as breached_at,
        case
            when conversation_id is null then 'invalid_conversation_id'
            when {{ nightly_metrics.is_usable_timestamp('breached_at_parsed') }} then null
            when conversation_started_at is null then 'no_usable_start_time'
            {#- Parenthesised for sqlfluff, which cannot parse a bare
                `is distinct from` (sqlfluff/sqlfluff#3284). #}
            when (sla_minutes_type is distinct from 'number') then 'missing_sla_minutes'
            when
                breached_after_sla_at is null
                or not {{ nightly_metrics.is_usable_timestamp('breached_after_sla_at') }}
                then 'breach_time_out_of_range'
        end as rejection_reason,
        fact_created_at,
        fact_updated_at
    from conversation_breach_times

),

candidates as (

    select * from breach_list_candidates
    union all
    select * from breach_list_not_arrays
    union all
    select * from conversation_candidates

),

final as (

    select
        fact_id,
        element_index,
        conversation_id,
        shop_domain,
        candidate_source,
        rejection_reason,
        case
            when rejection_reason is not null then cast(element as {{ dbt.type_string() }})
        end as rejected_element,
        rejection_reason is null as is_usable,
        breached_at,
        cast(fact_created_at as date) as fact_created_date,
        fact_created_at,
        fact_updated_at
    from candidates

)

select * from final
