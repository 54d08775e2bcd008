{#-
    One row telling, for each (fact type, column name) in `columns`, whether
    `relation` ("DashboardFact") holds a row of that fact type created before
    `before` (a timestamp literal): columns of booleans.

    PostgreSQL: a loose index scan over the ("shopDomain", "factType") index
    the application created: it steps from shop to shop and looks up each
    shop's rows of the type. A "yes" stops at the first old row; a "no"
    reads each shop's rows of the type, which for escalation snapshots are
    the 14 days the application keeps. (A plain EXISTS would walk the
    "createdAt" index back through every older row of every other type:
    seconds on a large table, every night.)
-#}
{% macro fact_types_with_rows_before(relation, columns, before) %}
    {{- return(adapter.dispatch('fact_types_with_rows_before', 'nightly_metrics')(
        relation, columns, before
    )) -}}
{% endmacro %}

{% macro default__fact_types_with_rows_before(relation, columns, before) -%}
    {%- set c = nightly_metrics.app_columns('dashboard_fact') -%}
    with recursive shops as (

        select min({{ c.shopDomain }}) as shop_domain
        from {{ relation }}
        union all
        select (
            select min(facts.{{ c.shopDomain }})
            from {{ relation }} as facts
            where facts.{{ c.shopDomain }} > shops.shop_domain
        ) as shop_domain
        from shops
        where shops.shop_domain is not null

    )

    select
        {%- for fact_type, column in columns %}
        exists (
            select 1
            from shops
            where
                shops.shop_domain is not null
                and exists (
                    select 1
                    from {{ relation }} as facts
                    where
                        facts.{{ c.shopDomain }} = shops.shop_domain
                        and facts.{{ c.factType }} = '{{ fact_type }}'
                        and facts.{{ c.createdAt }} < {{ before }}
                )
        ) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
{%- endmacro %}

{% macro spark__fact_types_with_rows_before(relation, columns, before) -%}
    {%- set c = nightly_metrics.app_columns('dashboard_fact') -%}
    select
        {%- for fact_type, column in columns %}
        (
            select count(*) > 0
            from {{ relation }}
            where
                {{ c.factType }} = '{{ fact_type }}'
                and {{ c.createdAt }} < {{ before }}
        ) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
{%- endmacro %}
