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
        "shopDomain",
        "externalRef",
        "createdAt"
    from {{ source('app', 'decision_log') }}
    where scope = 'ops'

),

final as (

    select
        id as decision_id,
        "shopDomain" as shop_domain,
        actor,
        action,
        "externalRef" as external_ref,
        case
            when {{ nightly_metrics.regex_matches('"externalRef"', '^chatwoot:[0-9]+$') }}
                then coalesce(nullif(ltrim(substr("externalRef", 10), '0'), ''), '0')
        end as resolved_conversation_id,
        cast("createdAt" as date) as decision_date,
        "createdAt" as created_at

    from source_decisions

)

select * from final
