{#-
    Dashboard sessions: one row per `dashboard.session.opened` fact.
    Downstream models filter on created_at, which PostgreSQL pushes through
    this view onto the indexed "createdAt" column.
-#}
with

source_facts as (

    select
        id,
        "shopDomain",
        "createdAt"
    from {{ source('app', 'dashboard_fact') }}
    where "factType" = 'dashboard.session.opened'

),

final as (

    select
        id as fact_id,
        "shopDomain" as shop_domain,
        (
            not {{ nightly_metrics.is_blank('"shopDomain"') }}
            and "shopDomain" != '__aggregate__'
        ) as is_countable_shop,
        cast("createdAt" as date) as session_date,
        "createdAt" as created_at

    from source_facts

)

select * from final
