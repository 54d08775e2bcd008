{#-
    Dashboard sessions: one row per dashboard session fact.
    Downstream models filter on created_at, which PostgreSQL pushes through
    this view onto the indexed "createdAt" column.
-#}
{%- set columns = nightly_metrics.app_columns('dashboard_fact') %}

with

source_facts as (

    select
        {{ columns.id }} as id,
        {{ columns.shopDomain }} as shop_domain,
        {{ columns.createdAt }} as created_at
    from {{ source('app', 'dashboard_fact') }}
    where
        {{ columns.factType }} = {{ nightly_metrics.fact_type('dashboard_session') }}
        and {{ nightly_metrics.is_usable_fact(columns) }}

),

final as (

    select
        id as fact_id,
        shop_domain,
        (
            not {{ nightly_metrics.is_blank('shop_domain') }}
            and shop_domain != '__aggregate__'
        ) as is_countable_shop,
        cast(created_at as date) as session_date,
        created_at

    from source_facts

)

select * from final
