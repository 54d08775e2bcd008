{#-
    Operator decisions with `scope = 'ops'`, one row each. A decision whose
    externalRef is exactly `chatwoot:<digits>` resolves that conversation; the
    id is kept as canonical digits (no leading zeros) so ids of any size, and
    `chatwoot:0042` against a payload's 42, match exactly.
-#}
with

source_decisions as (

    select
        id,
        actor,
        action,
        {{ adapter.quote('shopDomain') }} as shop_domain,
        {{ adapter.quote('externalRef') }} as external_ref,
        {{ adapter.quote('createdAt') }} as created_at
    from {{ source('app', 'decision_log') }}
    where scope = 'ops'

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
