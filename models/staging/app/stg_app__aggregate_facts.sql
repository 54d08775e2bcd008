{#-
    The aggregate metric facts already stored in "DashboardFact": rows with
    shopDomain '__aggregate__' and one of this project's two fact types. A
    rerun compares the source rows a stored fact was computed from
    (`metadata.sourceRowsRead`, written by this project) with what its window
    reads now, and keeps the stored fact when the sources have shrunk. A
    count that is not a plain whole number reads as unknown. Rows
    without that key (the earlier script's, or this project's before it
    recorded the count) have a null source_rows_read and are never kept.
    Downstream models filter on window_end_at, which PostgreSQL pushes onto
    the indexed "createdAt" column.
-#}
{%- set columns = nightly_metrics.app_columns('dashboard_fact') %}

with

source_facts as (

    select
        {{ columns.id }} as id,
        {{ columns.factType }} as fact_type,
        case
            when {{ nightly_metrics.json_type(
                nightly_metrics.json_member(columns.metadata, 'sourceRowsRead')
            ) }} = 'number'
                then {{ nightly_metrics.json_scalar_text(
                    nightly_metrics.json_member(columns.metadata, 'sourceRowsRead')
                ) }}
        end as source_rows_read_text,
        {{ columns.createdAt }} as created_at,
        {{ columns.updatedAt }} as updated_at
    from {{ source('app', 'dashboard_fact') }}
    where
        {{ columns.shopDomain }} = '__aggregate__'
        and {{ columns.factType }} in (
            {{ nightly_metrics.fact_type('activation') }},
            {{ nightly_metrics.fact_type('sla_resolution') }}
        )

),

final as (

    select
        id as fact_id,
        fact_type as metric_fact_type,
        case
            when {{ nightly_metrics.regex_matches('source_rows_read_text', '^[0-9]{1,18}$') }}
                then cast(source_rows_read_text as {{ dbt.type_bigint() }})
        end as source_rows_read,
        created_at as window_end_at,
        updated_at

    from source_facts

)

select * from final
