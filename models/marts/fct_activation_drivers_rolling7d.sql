{#-
    What moved operator activation, per as-of date: against the window 7 days
    earlier, how many shops became active or activated and how many no longer
    are, with the first 10 domains of each (alphabetically; the full lists
    are int_activation_shop_states). Reconciles with the facts: active and
    activated shops now = 7 days earlier + new - lost. Incremental like
    fct_ops_metrics_rolling7d: a run replaces its own as-of dates.
-#}
{{
    config(**nightly_metrics.incremental_by_as_of_date(
        ['as_of_date']
    ))
}}
{%- set listed = var('driver_list_length') %}

with

{#- The run's as-of dates and their windows, one row each, as the fact has them. #}
as_of_dates as (

    select
        as_of_date,
        window_start_at,
        window_end_at
    from {{ ref('int_activation_rolling7d') }}

),

shop_states as (

    select
        as_of_date,
        shop_domain,
        is_active,
        is_activated,
        was_active,
        was_activated
    from {{ ref('int_activation_shop_states') }}

),

changes as (

    select
        as_of_date,
        count(case when is_active then 1 end) as active_shops,
        count(case when was_active then 1 end) as active_shops_7d_earlier,
        count(case when is_active and not was_active then 1 end) as newly_active_shops,
        count(case when was_active and not is_active then 1 end) as no_longer_active_shops,
        count(case when is_activated then 1 end) as activated_shops,
        count(case when was_activated then 1 end) as activated_shops_7d_earlier,
        count(case when is_activated and not was_activated then 1 end)
            as newly_activated_shops,
        count(case when was_activated and not is_activated then 1 end)
            as no_longer_activated_shops,
        {{ nightly_metrics.first_sorted_values(
            'shop_domain', listed, 'is_active and not was_active') }} as newly_active_first_shops,
        {{ nightly_metrics.first_sorted_values(
            'shop_domain', listed, 'was_active and not is_active') }} as no_longer_active_first_shops,
        {{ nightly_metrics.first_sorted_values(
            'shop_domain', listed, 'is_activated and not was_activated') }}
            as newly_activated_first_shops,
        {{ nightly_metrics.first_sorted_values(
            'shop_domain', listed, 'was_activated and not is_activated') }}
            as no_longer_activated_first_shops
    from shop_states
    group by as_of_date

),

final as (

    select
        as_of_dates.as_of_date,
        as_of_dates.window_start_at,
        as_of_dates.window_end_at,
        coalesce(changes.active_shops, 0) as active_shops,
        coalesce(changes.active_shops_7d_earlier, 0) as active_shops_7d_earlier,
        coalesce(changes.newly_active_shops, 0) as newly_active_shops,
        coalesce(changes.no_longer_active_shops, 0) as no_longer_active_shops,
        coalesce(changes.activated_shops, 0) as activated_shops,
        coalesce(changes.activated_shops_7d_earlier, 0) as activated_shops_7d_earlier,
        coalesce(changes.newly_activated_shops, 0) as newly_activated_shops,
        coalesce(changes.no_longer_activated_shops, 0) as no_longer_activated_shops,
        changes.newly_active_first_shops,
        changes.no_longer_active_first_shops,
        changes.newly_activated_first_shops,
        changes.no_longer_activated_first_shops
    from as_of_dates
    left join changes
        on as_of_dates.as_of_date = changes.as_of_date

)

select * from final
