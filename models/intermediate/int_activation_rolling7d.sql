{#-
    Operator activation per as-of date: shops with a dashboard session in the
    window, and how many of them also have an ops decision in the same window.
-#}
with

as_of_dates as (

    select
        as_of_date,
        window_start_date,
        window_start_at,
        window_end_at
    from {{ ref('int_as_of_dates') }}

),

session_days as (

    select
        shop_domain,
        session_date,
        session_count
    from {{ ref('int_shop_days_with_sessions') }}

),

decision_days as (

    select
        shop_domain,
        decision_date,
        decision_count
    from {{ ref('int_shop_days_with_ops_decisions') }}

),

active_shops as (

    select
        as_of_dates.as_of_date,
        session_days.shop_domain,
        sum(session_days.session_count) as session_count
    from as_of_dates
    inner join session_days
        on
            session_days.session_date >= as_of_dates.window_start_date
            and session_days.session_date < as_of_dates.as_of_date
    group by as_of_dates.as_of_date, session_days.shop_domain

),

deciding_shops as (

    select
        as_of_dates.as_of_date,
        decision_days.shop_domain,
        sum(decision_days.decision_count) as decision_count
    from as_of_dates
    inner join decision_days
        on
            decision_days.decision_date >= as_of_dates.window_start_date
            and decision_days.decision_date < as_of_dates.as_of_date
    group by as_of_dates.as_of_date, decision_days.shop_domain

),

shop_counts as (

    select
        active_shops.as_of_date,
        count(*) as total_active_shops,
        count(deciding_shops.shop_domain) as activated_shops,
        sum(active_shops.session_count) as sessions_counted
    from active_shops
    left join deciding_shops
        on
            active_shops.as_of_date = deciding_shops.as_of_date
            and active_shops.shop_domain = deciding_shops.shop_domain
    group by active_shops.as_of_date

),

final as (

    select
        as_of_dates.as_of_date,
        coalesce(shop_counts.total_active_shops, 0) as total_active_shops,
        coalesce(shop_counts.activated_shops, 0) as activated_shops,
        coalesce(shop_counts.sessions_counted, 0) as sessions_counted,
        case
            when coalesce(shop_counts.total_active_shops, 0) = 0
                then {{ nightly_metrics.round_decimal(0, 4) }}
            else {{ nightly_metrics.round_decimal(
                nightly_metrics.cast_numeric('shop_counts.activated_shops')
                ~ ' / shop_counts.total_active_shops', 4
            ) }}
        end as activation_rate,
        as_of_dates.window_start_at,
        as_of_dates.window_end_at
    from as_of_dates
    left join shop_counts
        on as_of_dates.as_of_date = shop_counts.as_of_date

)

select * from final
