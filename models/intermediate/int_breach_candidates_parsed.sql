{#-
    Breach candidates read from the escalation snapshots' breach elements
    (stg_app__escalation_breach_elements), usable or not: each element's
    conversation id in canonical digits, its breach time (for a legacy
    element without a valid breachedAt, its start plus the snapshot's
    slaMinutes), and, when it cannot be used, the rejection_reason and its
    raw JSON, so nothing is skipped silently and no payload fails a run.

    A view: int_breach_candidates_remembered reads it for the snapshots it
    has not read yet, and only their elements are parsed. Each step is a
    LATERAL subquery (evaluated_once): its columns are computed once per
    element, after that filter, however often the next steps read them.
-#}
{%- set is_legacy = "elements.candidate_source = 'value'" %}
{%- set conversation_id_member -%}
    (case
        when {{ is_legacy }} then {{ nightly_metrics.json_member('elements.element', 'id') }}
        else {{ nightly_metrics.json_member('elements.element', 'conversationId') }}
    end)
{%- endset %}
{%- set epoch = nightly_metrics.cast_numeric('members.epoch_text') %}
{%- set sla_minutes = nightly_metrics.cast_numeric('members.sla_minutes_text') %}
{%- set id_text = 'members.conversation_id_text' %}
{%- set tiny = nightly_metrics.smallest_nonzero_json_number() %}
{%- set day = nightly_metrics.minutes_per_day() %}

with

elements as (

    select
        fact_id,
        shop_domain,
        candidate_source,
        element_index,
        element,
        is_list_element,
        sla_minutes,
        fact_created_at,
        fact_updated_at
    from {{ ref('stg_app__escalation_breach_elements') }}

),

{#
    The members each format's rules read. Current format: {conversationId,
    breachedAt}. Legacy format: {id, breachedAt?, createdAt?,
    lastMessageAt?, created_at? (epoch seconds)} with metadata.slaMinutes.
-#}
element_members as (

    select
        elements.*,
        members.*
    from elements
    cross join lateral (
        select
            {{ nightly_metrics.json_type('elements.element') }} as element_type,
            {{ nightly_metrics.json_type(conversation_id_member) }} as conversation_id_type,
            {{ nightly_metrics.json_scalar_text(conversation_id_member) }}
                as conversation_id_text,
            {{ nightly_metrics.json_member_type_and_text(
                'elements.element', 'breachedAt', 'breached_at'
            ) }},
            {%- for key, prefix in [
                ('createdAt', 'created_at'),
                ('lastMessageAt', 'last_message_at'),
                ('created_at', 'epoch'),
            ] %}
                case
                    when {{ is_legacy }}
                        then {{ nightly_metrics.json_type(
                            nightly_metrics.json_member('elements.element', key)
                        ) }}
                end as {{ prefix }}_type,
                case
                    when {{ is_legacy }}
                        then {{ nightly_metrics.json_scalar_text(
                            nightly_metrics.json_member('elements.element', key)
                        ) }}
                end as {{ prefix }}_text,
            {%- endfor %}
            {{ nightly_metrics.json_type('elements.sla_minutes') }} as sla_minutes_type,
            {{ nightly_metrics.json_scalar_text('elements.sla_minutes') }} as sla_minutes_text
        {{ nightly_metrics.evaluated_once() }}
    ) as members

),

parsed_members as (

    select
        members.*,
        parsed.*
    from element_members as members
    cross join lateral (
        select
            case
                when
                    (
                        members.conversation_id_type = 'number'
                        or (
                            members.conversation_id_type = 'string'
                            and members.candidate_source = 'metadata.breaches'
                        )
                    )
                    and {{ nightly_metrics.regex_matches(id_text, '^[0-9]+$') }}
                    then {{ nightly_metrics.canonical_conversation_id(id_text) }}
            end as conversation_id,
            {%- for prefix in ['breached_at', 'created_at', 'last_message_at'] %}
                case
                    when members.{{ prefix }}_type = 'string'
                        then {{ nightly_metrics.parse_iso8601_utc('members.' ~ prefix ~ '_text') }}
                end as {{ prefix }}_parsed,
            {%- endfor %}
            {#- An epoch outside [1970, 10000) is unusable anyway; the bound
                keeps the arithmetic in range. A tiny one reads as 0. -#}
            case
                when members.epoch_type = 'number'
                    then case
                        when
                            {{ epoch }} >= 0
                            and {{ epoch }} < {{ nightly_metrics.first_unusable_epoch_second() }}
                            then {{ nightly_metrics.epoch_seconds_to_timestamp(
                                "case when " ~ epoch ~ " < " ~ tiny
                                ~ " then '0' else members.epoch_text end"
                            ) }}
                    end
            end as epoch_parsed,
            case
                when members.sla_minutes_type = 'number' then {{ sla_minutes }}
            end as sla_minutes_exact,
            case
                when members.sla_minutes_type = 'number'
                    then case
                        when abs({{ sla_minutes }}) < {{ tiny }}
                            then cast(0 as {{ dbt.type_float() }})
                        when abs({{ sla_minutes }}) < {{ nightly_metrics.sla_minutes_limit() }}
                            then cast(members.sla_minutes_text as {{ dbt.type_float() }})
                    end
            end as sla_minutes_float
        {{ nightly_metrics.evaluated_once() }}
    ) as parsed

),

{# A legacy element's start: its first usable createdAt, lastMessageAt, created_at. #}
conversation_starts as (

    select
        parsed.*,
        starts.*
    from parsed_members as parsed
    cross join lateral (
        select
            case
                when {{ nightly_metrics.is_usable_timestamp('parsed.created_at_parsed') }}
                    then parsed.created_at_parsed
                when {{ nightly_metrics.is_usable_timestamp('parsed.last_message_at_parsed') }}
                    then parsed.last_message_at_parsed
                when {{ nightly_metrics.is_usable_timestamp('parsed.epoch_parsed') }}
                    then parsed.epoch_parsed
            end as conversation_started_at
        {{ nightly_metrics.evaluated_once() }}
    ) as starts

),

{# Start plus slaMinutes, computed only when the sum lands within a day of
    the usable years 1970-9999: further out it is unusable anyway, and the
    arithmetic could leave the engine's timestamp range and fail the run. #}
sla_breach_times as (

    select
        starts.*,
        sla_times.*
    from conversation_starts as starts
    cross join lateral (
        select
            case
                when
                    {{ nightly_metrics.epoch_minutes('starts.conversation_started_at') }}
                    + starts.sla_minutes_exact > {{ -day }}
                    and {{ nightly_metrics.epoch_minutes('starts.conversation_started_at') }}
                    + starts.sla_minutes_exact
                    < {{ nightly_metrics.first_unusable_epoch_minute() + day }}
                    then {{ nightly_metrics.add_minutes(
                        'starts.conversation_started_at', 'starts.sla_minutes_float'
                    ) }}
            end as breached_after_sla_at
        {{ nightly_metrics.evaluated_once() }}
    ) as sla_times

),

candidates as (

    select
        *,
        case
            when not is_list_element then null
            when {{ nightly_metrics.is_usable_timestamp('breached_at_parsed') }}
                then breached_at_parsed
            when
                candidate_source = 'value'
                and {{ nightly_metrics.is_usable_timestamp('breached_after_sla_at') }}
                then breached_after_sla_at
        end as breached_at,
        case
            when candidate_source = 'metadata.breaches'
                then case
                    when not is_list_element then 'breaches_not_an_array'
                    when element_type != 'object' then 'element_not_an_object'
                    when conversation_id is null then 'invalid_conversation_id'
                    when breached_at_parsed is null then 'invalid_breached_at'
                    when not {{ nightly_metrics.is_usable_timestamp('breached_at_parsed') }}
                        then 'breach_time_out_of_range'
                end
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
        end as rejection_reason
    from sla_breach_times

),

final as (

    select
        fact_id,
        element_index,
        case when is_list_element then conversation_id end as conversation_id,
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
