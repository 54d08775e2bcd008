{#-
    The two JSON columns of a written fact (fact_value, fact_metadata), for
    one metric's rows in fct_ops_metrics_rolling7d. Both facts share their
    frame; a metric names only its own figures, in the order it writes them:

    - fact_value: windowStart, windowEnd, then `figures`;
    - fact_metadata: generatedAt, then `metadata`, then sourceRowsRead, the
      missing days of each of the metric's `streams` (missingSourceDays) and
      missingDaysOverridden.

    Each pair is (JSON key, column of the metric's CTE). The CTE provides
    window_start_at, window_end_at, generated_at, source_rows_read,
    missing_source_day_count and, per stream in `streams` (JSON key, column),
    that column (a JSON array of the stream's missing days). Key order is
    kept: jsonb sorts keys anyway, Spark's to_json writes them as given.
-#}
{% macro aggregate_fact_json(figures, metadata, streams) -%}
    {{ nightly_metrics.json_object(
        [
            ('windowStart', nightly_metrics.iso8601_utc_string('window_start_at')),
            ('windowEnd', nightly_metrics.iso8601_utc_string('window_end_at')),
        ] + figures
    ) }} as fact_value,
    {{ nightly_metrics.json_object(
        [('generatedAt', nightly_metrics.iso8601_utc_string('generated_at'))]
        + metadata
        + [
            ('sourceRowsRead', 'source_rows_read'),
            ('missingSourceDays', nightly_metrics.json_nested_object(streams)),
            ('missingDaysOverridden', '(missing_source_day_count > 0 and '
                ~ nightly_metrics.bool_var('allow_missing_days') ~ ')'),
        ]
    ) }} as fact_metadata
{%- endmacro %}

{#-
    The `notes` of each written fact, a SQL string literal: what the figures
    count, in a sentence for whoever reads the row in "DashboardFact".
-#}
{% macro aggregate_fact_notes(metric) -%}
    {%- set notes = {
        'activation':
            'Distinct shops (not blank, not __aggregate__) with a'
            ~ ' ' ~ nightly_metrics.fact_type_name('dashboard_session')
            ~ ' fact in [windowStart, windowEnd);'
            ~ ' activated = those with an ops DecisionLog row for the same'
            ~ ' shopDomain in the same window.',
        'sla_resolution':
            'Breaches from ' ~ nightly_metrics.fact_type_name('escalation_snapshot')
            ~ ' snapshots in the window and the '
            ~ var('escalation_lookback_days') ~ ' days before it, one per'
            ~ ' conversation at its earliest breachedAt, each paired with the first'
            ~ ' ops decision chatwoot:<id> at or after it; sample = breaches so'
            ~ ' resolved inside the window; percentile_cont of minutes.',
    } -%}
    '{{ notes[metric] }}'
{%- endmacro %}
