{#-
    Dashboard sessions: one row per dashboard session fact.
    Downstream models filter on created_at, which PostgreSQL pushes through
    this view onto the indexed "createdAt" column.
-#}
with

source_facts as (

    select
        id,
        {{ adapter.quote('shopDomain') }},
        {{ adapter.quote('createdAt') }}
    from {{ source('app', 'dashboard_fact') }}
    where {{ adapter.quote('factType') }} = {{ nightly_metrics.fact_type('dashboard_session') }}

),

final as (

    select
        id as fact_id,
        {{ adapter.quote('shopDomain') }} as shop_domain,
        (
            not {{ nightly_metrics.is_blank(adapter.quote('shopDomain')) }}
            and {{ adapter.quote('shopDomain') }} != '__aggregate__'
        ) as is_countable_shop,
        cast({{ adapter.quote('createdAt') }} as date) as session_date,
        {{ adapter.quote('createdAt') }} as created_at

    from source_facts

)

select * from final
