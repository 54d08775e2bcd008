{#-
    The aggregate facts the dashboard reads: one row per metric and window,
    exactly as they are written back into "DashboardFact" (value and
    metadata JSON) beside their typed figures. Incremental: a run replaces
    the rows of its own as-of dates and leaves every other window alone. The
    post-hook writes this run's rows into "DashboardFact" in the same
    transaction (see macros/write_aggregate_facts.sql).
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
        on_schema_change='fail',
        post_hook=["{{ nightly_metrics.write_aggregate_facts() }}"],
    )
}}

with

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

generated as (

    select {{ nightly_metrics.current_utc_timestamp() }} as generated_at

),

activation_facts as (

    select
        'metrics.activation.rolling7d' as metric_fact_type,
        activation.total_active_shops,
        activation.activated_shops,
        cast(null as {{ dbt.type_bigint() }}) as sample_size,
        {{ nightly_metrics.cast_numeric('activation.activation_rate') }} as activation_rate,
        {{ nightly_metrics.cast_numeric('null') }} as median_minutes,
        {{ nightly_metrics.cast_numeric('null') }} as p90_minutes,
        {{ nightly_metrics.json_object([
            ('windowStart', nightly_metrics.iso8601_utc_string('activation.window_start_at')),
            ('windowEnd', nightly_metrics.iso8601_utc_string('activation.window_end_at')),
            ('totalActiveShops', 'activation.total_active_shops'),
            ('activatedShops', 'activation.activated_shops'),
            ('activationRate', 'activation.activation_rate'),
        ]) }} as fact_value,
        {{ nightly_metrics.json_object([
            ('generatedAt', nightly_metrics.iso8601_utc_string('generated.generated_at')),
            ('notes', "'Distinct shops (not blank, not __aggregate__) with a dashboard.session.opened fact in [windowStart, windowEnd); activated = those with an ops DecisionLog row for the same shopDomain in the same window.'"),
            ('sessionsCounted', 'activation.sessions_counted'),
        ]) }} as fact_metadata,
        activation.as_of_date,
        activation.window_start_at,
        activation.window_end_at,
        generated.generated_at
    from activation
    cross join generated

),

sla_resolution_facts as (

    select
        'metrics.sla_resolution.rolling7d' as metric_fact_type,
        cast(null as {{ dbt.type_bigint() }}) as total_active_shops,
        cast(null as {{ dbt.type_bigint() }}) as activated_shops,
        sla_resolution.sample_size,
        {{ nightly_metrics.cast_numeric('null') }} as activation_rate,
        {{ nightly_metrics.cast_numeric('sla_resolution.median_minutes') }} as median_minutes,
        {{ nightly_metrics.cast_numeric('sla_resolution.p90_minutes') }} as p90_minutes,
        {{ nightly_metrics.json_object([
            ('windowStart', nightly_metrics.iso8601_utc_string('sla_resolution.window_start_at')),
            ('windowEnd', nightly_metrics.iso8601_utc_string('sla_resolution.window_end_at')),
            ('sampleSize', 'sla_resolution.sample_size'),
            ('medianMinutes', 'sla_resolution.median_minutes'),
            ('p90Minutes', 'sla_resolution.p90_minutes'),
        ]) }} as fact_value,
        {{ nightly_metrics.json_object([
            ('generatedAt', nightly_metrics.iso8601_utc_string('generated.generated_at')),
            ('sampleSize', 'sla_resolution.sample_size'),
            ('notes', "'Breaches from chatwoot.escalations snapshots in the window and the " ~ var('escalation_lookback_days') ~ " days before it, one per conversation at its earliest breachedAt, each paired with the first ops decision chatwoot:<id> at or after it; sample = breaches so resolved inside the window; percentile_cont of minutes.'"),
            ('lookbackDays', var('escalation_lookback_days')),
            ('breachesSeen', 'sla_resolution.breaches_seen'),
            ('breachCandidatesRejected', 'sla_resolution.breach_candidates_rejected'),
        ]) }} as fact_metadata,
        sla_resolution.as_of_date,
        sla_resolution.window_start_at,
        sla_resolution.window_end_at,
        generated.generated_at
    from sla_resolution
    cross join generated

),

final as (

    select * from activation_facts
    union all
    select * from sla_resolution_facts

)

select * from final
