{#-
    The breach elements of Chatwoot escalation snapshots, unpacked from both
    payload formats and not yet read: one row per element of
    `metadata.breaches` (current format), one per `metadata.breaches` member
    that is there but not an array (it cannot be read), and one per
    `slaBreached: true` element of the legacy `value` array (carrying the
    snapshot's `metadata.slaMinutes`). int_breach_candidates_parsed reads
    them; int_breach_candidates_remembered keeps what it read.

    A view over every snapshot: the memory filters it on fact_created_at and
    fact_id, which PostgreSQL pushes through to "DashboardFact"'s indexes.
-#}
{%- set columns = nightly_metrics.app_columns('dashboard_fact') %}

with

escalation_facts as {{ nightly_metrics.inlined_cte() }} (

    select
        {{ columns.id }} as id,
        {{ columns.shopDomain }} as shop_domain,
        {{ columns.value }} as value,
        {{ columns.metadata }} as metadata,
        {{ columns.createdAt }} as created_at,
        {{ columns.updatedAt }} as updated_at
    from {{ source('app', 'dashboard_fact') }}
    where
        {{ columns.factType }} = {{ nightly_metrics.fact_type('escalation_snapshot') }}
        and {{ nightly_metrics.is_usable_fact(columns) }}

),

{# Current format: metadata.breaches = [{conversationId, breachedAt}, …] -#}
breach_list_elements as (

    select
        facts.id as fact_id,
        facts.shop_domain,
        'metadata.breaches' as candidate_source,
        elements.element_index,
        elements.element,
        true as is_list_element,
        {{ nightly_metrics.json_member('facts.metadata', 'slaMinutes') }} as sla_minutes,
        facts.created_at as fact_created_at,
        facts.updated_at as fact_updated_at
    from escalation_facts as facts
    {{ nightly_metrics.join_json_array_elements(
        nightly_metrics.json_member('facts.metadata', 'breaches'), 'elements'
    ) }}

),

{# A `breaches` member that is there but not an array cannot be read. -#}
breach_list_not_arrays as (

    select
        id as fact_id,
        shop_domain,
        'metadata.breaches' as candidate_source,
        cast(null as {{ dbt.type_bigint() }}) as element_index,
        {{ nightly_metrics.json_member('metadata', 'breaches') }} as element,
        false as is_list_element,
        {{ nightly_metrics.json_member('metadata', 'slaMinutes') }} as sla_minutes,
        created_at as fact_created_at,
        updated_at as fact_updated_at
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
        facts.shop_domain,
        'value' as candidate_source,
        elements.element_index,
        elements.element,
        true as is_list_element,
        {{ nightly_metrics.json_member('facts.metadata', 'slaMinutes') }} as sla_minutes,
        facts.created_at as fact_created_at,
        facts.updated_at as fact_updated_at
    from escalation_facts as facts
    {{ nightly_metrics.join_json_array_elements('facts.value', 'elements') }}

),

breached_conversation_elements as (

    select *
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

final as (

    select * from breach_list_elements
    union all
    select * from breach_list_not_arrays
    union all
    select * from breached_conversation_elements

)

select * from final
