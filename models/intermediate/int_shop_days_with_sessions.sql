{#-
    One row per shop and UTC day with at least one dashboard session, for the
    days any window of this run covers, and the windows 7 days before them
    (what int_activation_shop_states compares against). Windows are whole
    days, so counting shop-days is exact and much smaller than counting
    sessions.
-#}
with

sessions as (

    select
        shop_domain,
        session_date
    from {{ ref('stg_app__dashboard_sessions') }}
    where
        is_countable_shop
        and created_at >= {{ nightly_metrics.run_window_start(var('window_days')) }}
        and created_at < {{ nightly_metrics.run_window_end() }}

),

final as (

    select
        shop_domain,
        session_date,
        count(*) as session_count
    from sessions
    group by shop_domain, session_date

)

select * from final
