{#-
    Fails with one row per UTC day of the run's windows on which `model` has
    no rows of `fact_type`: a source day that never arrived. Under
    `dbt build` an error-severity failure keeps the aggregate facts of the run
    from being written, instead of reporting "0 active shops" for a day whose
    data is simply missing.

    Arguments: fact_type (value of type_column to look for; omit to count
    every row), date_column (timestamp column, UTC; default "createdAt"),
    type_column (default "factType"), and
    window_days (days before each as-of date that must each have rows).
-#}
{% test source_has_rows_every_day(
    model,
    fact_type=none,
    date_column=none,
    type_column=none,
    window_days=none
) %}

{#- Quoted camelCase by default; adapter.quote spells it for the engine. -#}
{%- set date_column = date_column or adapter.quote('createdAt') -%}
{%- set type_column = type_column or adapter.quote('factType') -%}

{%- set days = window_days or var('window_days') -%}
{%- set first_day = modules.datetime.datetime.strptime(nightly_metrics.as_of_start(), '%Y-%m-%d')
    - modules.datetime.timedelta(days=days) -%}
{%- set last_day = modules.datetime.datetime.strptime(nightly_metrics.as_of_end(), '%Y-%m-%d')
    - modules.datetime.timedelta(days=1) -%}

with

expected_days as (

    {{ nightly_metrics.as_of_date_spine(first_day.strftime('%Y-%m-%d'), last_day.strftime('%Y-%m-%d')) }}

),

days_with_rows as (

    select distinct cast({{ date_column }} as date) as row_date
    from {{ model }}
    where
        {{ date_column }} >= {{ nightly_metrics.timestamp_literal(first_day.strftime('%Y-%m-%d')) }}
        and {{ date_column }} < {{ nightly_metrics.timestamp_literal(nightly_metrics.as_of_end()) }}
        {%- if fact_type is not none %}
        and {{ type_column }} = '{{ fact_type }}'
        {%- endif %}

),

final as (

    select
        expected_days.as_of_date as missing_day,
        'no {{ fact_type or "" }} rows on ' || cast(expected_days.as_of_date as {{ dbt.type_string() }})
            as failure_message
    from expected_days
    left join days_with_rows
        on expected_days.as_of_date = days_with_rows.row_date
    where days_with_rows.row_date is null

)

select * from final

{% endtest %}
