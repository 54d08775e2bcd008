{#-
    Operator activation shop by shop: for each as-of date D, one row per shop
    active in D's window or in the window 7 days earlier (the one ending
    D - 7), with whether it was active (a dashboard session in the window)
    and activated (active, with an ops decision naming it in the same window)
    in each, and its sessions in D's window. int_activation_rolling7d counts
    these rows: the contract's activation is computed here once.

    Each window is computed once, by its end date: in a backfill the window
    7 days before D is the window of the as-of date D - 7, so the dates and
    the dates 7 days before them share their windows (365 dates need 372
    windows, not 730).
-#}
{%- set window_days = var('window_days') %}

with

as_of_dates as (

    select as_of_date
    from {{ ref('int_as_of_dates') }}

),

window_ends as (

    select as_of_date as window_end_date
    from as_of_dates

    union

    select {{ nightly_metrics.add_days('as_of_date', -window_days) }} as window_end_date
    from as_of_dates

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
        decision_date
    from {{ ref('int_shop_days_with_ops_decisions') }}

),

active_shops as (

    select
        window_ends.window_end_date,
        session_days.shop_domain,
        sum(session_days.session_count) as session_count
    from window_ends
    inner join session_days
        on
            session_days.session_date
            >= {{ nightly_metrics.add_days('window_ends.window_end_date', -window_days) }}
            and session_days.session_date < window_ends.window_end_date
    group by window_ends.window_end_date, session_days.shop_domain

),

deciding_shops as (

    select distinct
        window_ends.window_end_date,
        decision_days.shop_domain
    from window_ends
    inner join decision_days
        on
            decision_days.decision_date
            >= {{ nightly_metrics.add_days('window_ends.window_end_date', -window_days) }}
            and decision_days.decision_date < window_ends.window_end_date

),

shop_windows as (

    select
        active_shops.window_end_date,
        active_shops.shop_domain,
        active_shops.session_count,
        deciding_shops.shop_domain is not null as is_activated
    from active_shops
    left join deciding_shops
        on
            active_shops.window_end_date = deciding_shops.window_end_date
            and active_shops.shop_domain = deciding_shops.shop_domain

),

current_windows as (

    select
        as_of_dates.as_of_date,
        shop_windows.shop_domain,
        shop_windows.session_count,
        shop_windows.is_activated
    from as_of_dates
    inner join shop_windows
        on shop_windows.window_end_date = as_of_dates.as_of_date

),

earlier_windows as (

    select
        as_of_dates.as_of_date,
        shop_windows.shop_domain,
        shop_windows.is_activated
    from as_of_dates
    inner join shop_windows
        on
            shop_windows.window_end_date
            = {{ nightly_metrics.add_days('as_of_dates.as_of_date', -window_days) }}

),

final as (

    select
        coalesce(current_windows.as_of_date, earlier_windows.as_of_date) as as_of_date,
        coalesce(current_windows.shop_domain, earlier_windows.shop_domain) as shop_domain,
        current_windows.shop_domain is not null as is_active,
        coalesce(current_windows.is_activated, false) as is_activated,
        coalesce(current_windows.session_count, 0) as session_count,
        earlier_windows.shop_domain is not null as was_active,
        coalesce(earlier_windows.is_activated, false) as was_activated
    from current_windows
    full outer join earlier_windows
        on
            current_windows.as_of_date = earlier_windows.as_of_date
            and current_windows.shop_domain = earlier_windows.shop_domain

)

select * from final
