{#-
    Operator activation per as-of date: shops with a dashboard session in the
    window, and how many of them also have an ops decision in the same window,
    counted from int_activation_shop_states (where each shop's window is
    computed once for the KPI and its drivers alike).
-#}
with

as_of_dates as (

    select
        as_of_date,
        window_start_at,
        window_end_at
    from {{ ref('int_as_of_dates') }}

),

shop_states as (

    select
        as_of_date,
        is_active,
        is_activated,
        session_count
    from {{ ref('int_activation_shop_states') }}

),

shop_counts as (

    select
        as_of_date,
        sum(case when is_active then 1 else 0 end) as total_active_shops,
        sum(case when is_activated then 1 else 0 end) as activated_shops,
        sum(session_count) as sessions_counted
    from shop_states
    group by as_of_date

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
