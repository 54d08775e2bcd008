{#-
    Operator decisions with `scope = 'ops'`, one row each. A decision whose
    externalRef is exactly `chatwoot:<digits>` resolves that conversation; the
    id is kept as canonical digits (no leading zeros) so ids of any size, and
    `chatwoot:0042` against a payload's 42, match exactly.
-#}
{%- set columns = nightly_metrics.app_columns('decision_log') %}

with

source_decisions as (

    select
        {{ columns.id }} as id,
        {{ columns.actor }} as actor,
        {{ columns.action }} as action,
        {{ columns.shopDomain }} as shop_domain,
        {{ columns.externalRef }} as external_ref,
        {{ columns.createdAt }} as created_at
    from {{ source('app', 'decision_log') }}
    where
        {{ columns.scope }} = 'ops'
        {#- a decision without a time belongs to no window (counted by the
            source's data test) #}
        and {{ columns.createdAt }} is not null

),

final as (

    select
        id as decision_id,
        shop_domain,
        actor,
        action,
        external_ref,
        case
            when {{ nightly_metrics.regex_matches('external_ref', '^chatwoot:[0-9]+$') }}
                then {{ nightly_metrics.canonical_conversation_id('substr(external_ref, 10)') }}
        end as resolved_conversation_id,
        cast(created_at as date) as decision_date,
        created_at

    from source_decisions

)

select * from final
