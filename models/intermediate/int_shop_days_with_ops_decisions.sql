{#-
    One row per shop and UTC day with at least one ops decision naming that
    shop, for the days any window of this run covers, and the windows 7 days
    before them (what int_activation_shop_states compares against).
-#}
with

decisions as (

    select
        shop_domain,
        decision_date
    from {{ ref('stg_app__ops_decisions') }}
    where
        shop_domain is not null
        and created_at >= {{ nightly_metrics.run_window_start(var('window_days')) }}
        and created_at < {{ nightly_metrics.run_window_end() }}

),

final as (

    select
        shop_domain,
        decision_date,
        count(*) as decision_count
    from decisions
    group by shop_domain, decision_date

)

select * from final
