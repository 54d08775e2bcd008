{#-
    Chatwoot escalation snapshots, one row per escalation snapshot fact,
    without their payloads: what the missing-source-day check counts. (The
    breaches inside the payloads are unpacked by
    stg_app__escalation_breach_elements.) Downstream models filter on
    created_at, which PostgreSQL pushes through this view onto the indexed
    "createdAt" column.
-#}
{%- set columns = nightly_metrics.app_columns('dashboard_fact') %}

with

source_facts as (

    select
        {{ columns.id }} as id,
        {{ columns.shopDomain }} as shop_domain,
        {{ columns.createdAt }} as created_at,
        {{ columns.updatedAt }} as updated_at
    from {{ source('app', 'dashboard_fact') }}
    where
        {{ columns.factType }} = {{ nightly_metrics.fact_type('escalation_snapshot') }}
        and {{ nightly_metrics.is_usable_fact(columns) }}

),

final as (

    select
        id as fact_id,
        shop_domain,
        cast(created_at as date) as snapshot_date,
        created_at,
        updated_at

    from source_facts

)

select * from final
