{#-
    The aggregate facts the dashboard reads: one row per metric and window,
    exactly as they are written back into "DashboardFact" (value and
    metadata JSON) beside their typed figures. Incremental: a run replaces
    the rows of its own as-of dates and leaves every other window alone. The
    post-hook writes this run's rows into "DashboardFact" in the same
    transaction (see macros/write_aggregate_facts.sql), those whose
    write_action is 'written': a fact whose window lacks a source day that
    should have arrived is 'withheld', and one whose sources have shrunk
    since it was stored is 'kept' as stored (the vars allow_missing_days and
    allow_fewer_rows override each).
-#}
{#-
    On Spark, plain (parquet) tables have no delete: a run overwrites the
    partitions of its own as-of dates instead, which replaces the same rows
    (one per metric and as-of date) and leaves the others alone. The figures
    go through cast_numeric so each numeric column has one type on every
    engine (Spark would otherwise widen the union's decimals by the data).
-#}
{{
    config(
        unique_key=['metric_fact_type', 'window_end_at'],
        incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'delete+insert'),
        partition_by=(['as_of_date'] if target.type == 'spark' else none),
        file_format=('parquet' if target.type == 'spark' else none),
        on_schema_change='append_new_columns',
        post_hook=[
            "{{ nightly_metrics.write_aggregate_facts() }}",
            "{{ nightly_metrics.drop_temporary_tables() }}",
        ],
    )
}}

with

as_of_dates as (

    select
        as_of_date,
        window_start_date,
        lookback_start_date
    from {{ ref('int_as_of_dates') }}

),

activation as (

    select
        as_of_date,
        total_active_shops,
        activated_shops,
        sessions_counted,
        activation_rate,
        window_start_at,
        window_end_at
    from {{ ref('int_activation_rolling7d') }}

),

sla_resolution as (

    select
        as_of_date,
        sample_size,
        breaches_seen,
        breach_candidates_rejected,
        median_minutes,
        p90_minutes,
        window_start_at,
        window_end_at
    from {{ ref('int_sla_resolution_rolling7d') }}

),

checked_days as (

    select
        as_of_date,
        stream,
        window_day,
        is_missing
    from {{ ref('int_source_days_checked') }}

),

stream_days as (

    select
        stream,
        row_date,
        row_count
    from {{ ref('int_source_stream_days') }}

),

stored_facts as (

    select
        metric_fact_type,
        window_end_at,
        max(source_rows_read) as source_rows_read
    from {{ ref('stg_app__aggregate_facts') }}
    where
        window_end_at >= {{ nightly_metrics.timestamp_literal(nightly_metrics.as_of_start()) }}
        and window_end_at <= {{ nightly_metrics.run_window_end() }}
    group by metric_fact_type, window_end_at

),

{# The missing days of each stream (var source_streams), as JSON arrays. #}
missing_days as (

    select
        as_of_date,
        {{- nightly_metrics.missing_days_by_stream() }}
    from checked_days
    group by as_of_date

),

{# Source rows each fact's window reads: activation the window's sessions
    and ops decisions; SLA the escalation snapshots and ops decisions of the
    look-back and the window (the streams each reads: var source_streams). #}
source_rows_read as (

    select
        as_of_dates.as_of_date,
        {{ nightly_metrics.source_rows_read_by('activation') }}
            as activation_rows_read,
        {{ nightly_metrics.source_rows_read_by('sla_resolution') }}
            as sla_resolution_rows_read
    from as_of_dates
    inner join stream_days
        on
            stream_days.row_date >= as_of_dates.lookback_start_date
            and stream_days.row_date < as_of_dates.as_of_date
    group by as_of_dates.as_of_date

),

generated as (

    select {{ nightly_metrics.current_utc_timestamp() }} as generated_at

),

{# Each metric's figures beside what its JSON reports of its sources. #}
activation_figures as (

    select
        activation.total_active_shops,
        activation.activated_shops,
        activation.sessions_counted,
        activation.activation_rate,
        coalesce(source_rows_read.activation_rows_read, 0) as source_rows_read,
        {{- nightly_metrics.missing_days_columns('activation', 'missing_days') }},
        activation.as_of_date,
        activation.window_start_at,
        activation.window_end_at,
        generated.generated_at
    from activation
    cross join generated
    inner join missing_days
        on activation.as_of_date = missing_days.as_of_date
    left join source_rows_read
        on activation.as_of_date = source_rows_read.as_of_date

),

sla_resolution_figures as (

    select
        sla_resolution.sample_size,
        sla_resolution.breaches_seen,
        sla_resolution.breach_candidates_rejected,
        sla_resolution.median_minutes,
        sla_resolution.p90_minutes,
        coalesce(source_rows_read.sla_resolution_rows_read, 0) as source_rows_read,
        {{- nightly_metrics.missing_days_columns('sla_resolution', 'missing_days') }},
        sla_resolution.as_of_date,
        sla_resolution.window_start_at,
        sla_resolution.window_end_at,
        generated.generated_at
    from sla_resolution
    cross join generated
    inner join missing_days
        on sla_resolution.as_of_date = missing_days.as_of_date
    left join source_rows_read
        on sla_resolution.as_of_date = source_rows_read.as_of_date

),

{# One row per fact, in one shape: each metric's figures, the others null. #}
activation_facts as (

    select
        {{ nightly_metrics.fact_type('activation') }} as metric_fact_type,
        total_active_shops,
        activated_shops,
        cast(null as {{ dbt.type_bigint() }}) as sample_size,
        {{ nightly_metrics.cast_numeric('activation_rate') }} as activation_rate,
        {{ nightly_metrics.cast_numeric('null') }} as median_minutes,
        {{ nightly_metrics.cast_numeric('null') }} as p90_minutes,
        {{ nightly_metrics.aggregate_fact_json(
            figures=[
                ('totalActiveShops', 'total_active_shops'),
                ('activatedShops', 'activated_shops'),
                ('activationRate', 'activation_rate'),
            ],
            metadata=[
                ('notes', nightly_metrics.aggregate_fact_notes('activation')),
                ('sessionsCounted', 'sessions_counted'),
            ],
            streams=nightly_metrics.missing_days_json_streams('activation'),
        ) }},
        source_rows_read,
        missing_source_day_count,
        as_of_date,
        window_start_at,
        window_end_at,
        generated_at
    from activation_figures

),

sla_resolution_facts as (

    select
        {{ nightly_metrics.fact_type('sla_resolution') }} as metric_fact_type,
        cast(null as {{ dbt.type_bigint() }}) as total_active_shops,
        cast(null as {{ dbt.type_bigint() }}) as activated_shops,
        sample_size,
        {{ nightly_metrics.cast_numeric('null') }} as activation_rate,
        {{ nightly_metrics.cast_numeric('median_minutes') }} as median_minutes,
        {{ nightly_metrics.cast_numeric('p90_minutes') }} as p90_minutes,
        {{ nightly_metrics.aggregate_fact_json(
            figures=[
                ('sampleSize', 'sample_size'),
                ('medianMinutes', 'median_minutes'),
                ('p90Minutes', 'p90_minutes'),
            ],
            metadata=[
                ('sampleSize', 'sample_size'),
                ('notes', nightly_metrics.aggregate_fact_notes('sla_resolution')),
                ('lookbackDays', var('escalation_lookback_days')),
                ('breachesSeen', 'breaches_seen'),
                ('breachCandidatesRejected', 'breach_candidates_rejected'),
            ],
            streams=nightly_metrics.missing_days_json_streams('sla_resolution'),
        ) }},
        source_rows_read,
        missing_source_day_count,
        as_of_date,
        window_start_at,
        window_end_at,
        generated_at
    from sla_resolution_figures

),

computed_facts as (

    select * from activation_facts
    union all
    select * from sla_resolution_facts

),

final as (

    select
        computed_facts.metric_fact_type,
        computed_facts.total_active_shops,
        computed_facts.activated_shops,
        computed_facts.sample_size,
        computed_facts.activation_rate,
        computed_facts.median_minutes,
        computed_facts.p90_minutes,
        computed_facts.fact_value,
        computed_facts.fact_metadata,
        case
            when
                computed_facts.missing_source_day_count > 0
                and not {{ nightly_metrics.bool_var('allow_missing_days') }}
                then 'withheld'
            when
                stored_facts.source_rows_read > computed_facts.source_rows_read
                and not {{ nightly_metrics.bool_var('allow_fewer_rows') }}
                then 'kept'
            else 'written'
        end as write_action,
        computed_facts.source_rows_read,
        stored_facts.source_rows_read as stored_source_rows_read,
        computed_facts.missing_source_day_count,
        computed_facts.as_of_date,
        computed_facts.window_start_at,
        computed_facts.window_end_at,
        computed_facts.generated_at
    from computed_facts
    left join stored_facts
        on
            computed_facts.metric_fact_type = stored_facts.metric_fact_type
            and computed_facts.window_end_at = stored_facts.window_end_at

)

select * from final
