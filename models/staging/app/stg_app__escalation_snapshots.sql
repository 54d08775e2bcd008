{#-
    Chatwoot escalation snapshots, one row per escalation snapshot fact,
    without their payloads: what the missing-source-day check counts. (The
    breaches inside the payloads are unpacked by
    stg_app__escalation_breach_elements.) Downstream models filter on
    created_at, which PostgreSQL pushes through this view onto the indexed
    "createdAt" column.
-#}
with

source_facts as (

    select
        id,
        {{ adapter.quote('shopDomain') }},
        {{ adapter.quote('createdAt') }},
        {{ adapter.quote('updatedAt') }}
    from {{ source('app', 'dashboard_fact') }}
    where {{ adapter.quote('factType') }} = {{ nightly_metrics.fact_type('escalation_snapshot') }}

),

final as (

    select
        id as fact_id,
        {{ adapter.quote('shopDomain') }} as shop_domain,
        cast({{ adapter.quote('createdAt') }} as date) as snapshot_date,
        {{ adapter.quote('createdAt') }} as created_at,
        {{ adapter.quote('updatedAt') }} as updated_at

    from source_facts

)

select * from final
