{#-
    What moved operator activation, shop by shop: for each as-of date D, one
    row per shop active in D's window or in the window 7 days earlier (the
    one ending D - 7), with whether it was active (a dashboard session in the
    window) and activated (active, with an ops decision naming it in the same
    window) in each. The contract's activation, computed for both windows
    from the same shop-days as int_activation_rolling7d.
-#}
{%- set window_days = var('window_days') %}

with

as_of_dates as (

    select as_of_date
    from {{ ref('int_as_of_dates') }}

),

compared_windows as (

    select
        as_of_date,
        as_of_date as window_end_date,
        true as is_current
    from as_of_dates

    union all

    select
        as_of_date,
        {{ nightly_metrics.add_days('as_of_date', -window_days) }} as window_end_date,
        false as is_current
    from as_of_dates

),

session_days as (

    select
        shop_domain,
        session_date
    from {{ ref('int_shop_days_with_sessions') }}

),

decision_days as (

    select
        shop_domain,
        decision_date
    from {{ ref('int_shop_days_with_ops_decisions') }}

),

active_shops as (

    select distinct
        compared_windows.as_of_date,
        compared_windows.is_current,
        session_days.shop_domain
    from compared_windows
    inner join session_days
        on
            session_days.session_date
            >= {{ nightly_metrics.add_days('compared_windows.window_end_date', -window_days) }}
            and session_days.session_date < compared_windows.window_end_date

),

deciding_shops as (

    select distinct
        compared_windows.as_of_date,
        compared_windows.is_current,
        decision_days.shop_domain
    from compared_windows
    inner join decision_days
        on
            decision_days.decision_date
            >= {{ nightly_metrics.add_days('compared_windows.window_end_date', -window_days) }}
            and decision_days.decision_date < compared_windows.window_end_date

),

shop_windows as (

    select
        active_shops.as_of_date,
        active_shops.is_current,
        active_shops.shop_domain,
        deciding_shops.shop_domain is not null as is_activated
    from active_shops
    left join deciding_shops
        on
            active_shops.as_of_date = deciding_shops.as_of_date
            and active_shops.is_current = deciding_shops.is_current
            and active_shops.shop_domain = deciding_shops.shop_domain

),

current_windows as (

    select
        as_of_date,
        shop_domain,
        is_activated
    from shop_windows
    where is_current

),

earlier_windows as (

    select
        as_of_date,
        shop_domain,
        is_activated
    from shop_windows
    where not is_current

),

final as (

    select
        coalesce(current_windows.as_of_date, earlier_windows.as_of_date) as as_of_date,
        coalesce(current_windows.shop_domain, earlier_windows.shop_domain) as shop_domain,
        current_windows.shop_domain is not null as is_active,
        coalesce(current_windows.is_activated, false) as is_activated,
        earlier_windows.shop_domain is not null as was_active,
        coalesce(earlier_windows.is_activated, false) as was_activated
    from current_windows
    full outer join earlier_windows
        on
            current_windows.as_of_date = earlier_windows.as_of_date
            and current_windows.shop_domain = earlier_windows.shop_domain

)

select * from final
